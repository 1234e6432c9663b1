/*
 * interp_int.h - the interpreter loop, private to interp.c.
 *
 * Not an ordinary header: interp.c includes it four times, as the whole
 * body of the full loop (BPFVM_TRACED 0, BPFVM_LEAN 0), of the two lean
 * loops bpfvm_run() hands most programs to (BPFVM_LEAN 1, one per
 * semantics) and of bpfvm_run_traced() (BPFVM_TRACED 1), with vm, pkt,
 * meta, fn and ctx in scope.  Every "if (BPFVM_TRACED)" or
 * "if (BPFVM_LEAN)" on a constant is dead code in the other copies and
 * vanishes.  No include guard, by design.
 *
 * Dispatch is threading with GNU C computed goto: each handler ends in its
 * own indirect jump, so the branch predictor sees one jump per handler
 * rather than one shared switch.  The full and traced loops index a static
 * table with the op; the lean loops jump to the handler address decode
 * stored in the instruction.
 *
 * Measured on the development machine (2-core AMD EPYC VM, gcc 12 -O2):
 * computed goto ~15% faster than a switch; branch-free target selection
 * (see BRANCH) 1.5x slower; fused load/jump pairs and the return shortcut
 * together ~1.3x; dropping the return shortcut in the lean loops saves
 * instructions but costs ~10% time.  The lean loops (no saved registers
 * but one, direct threading, no scratch clearing) cut 20-25 instructions
 * per call: `capsim bench` went from a median 1.8-2.0x bpf_filter()'s
 * speed to 2.2-2.5x.  The layout of the loop in memory moves single
 * filters by +-10% on this machine, hence the lean loops' 64-byte
 * alignment: the numbers no longer depend on what is linked before them.
 */
#if !defined(BPFVM_TRACED) || !defined(BPFVM_LEAN)
#error "interp_int.h is the body of bpfvm_run(); only interp.c includes it"
#endif

/*
 * BPFVM_LEAN 0: the full loop, any program, semantics read from vm->sem.
 * BPFVM_LEAN 1 + BPFVM_LEAN_SEM: a lean loop for one semantics, fixed at
 * compile time, that calls no function, so it needs no stack frame and
 * one saved register (the full loop saves six and spills three values per
 * call: on a short filter, half the work), and dispatches through the
 * handler address decode stored in each instruction.  It reads the
 * negative IND offsets of linux semantics and the sk_buff-field
 * ancillary loads inline.  Decode sends it no RANDOM or NLATTR loads, no
 * negative constant loads, no backward jumps and no read of a scratch
 * cell before a write (choose_loop() in interp.c); the handlers of the
 * second and third are not reached here.
 */
#if BPFVM_LEAN
#define IS_LINUX (BPFVM_LEAN_SEM == BPFVM_LINUX)
#define NOT_LEAN() FINISH(0)	/* not reached, see above */
#define LENVAL (IS_LINUX ? len : opaque_pkt(pkt)->wirelen)
#define LINUX_LOAD(p, o, sz) linux_load_inline(opaque_pkt(p), o, sz)
#else
#define IS_LINUX (vm->sem == BPFVM_LINUX)
#define NOT_LEAN() do { } while (0)
#define LENVAL lenval
#define LINUX_LOAD linux_load
#endif

{
#define BPFVM_IOP_LABEL(name) [BPFVM_I_##name] = &&op_##name,
	static const void *const dispatch[BPFVM_I_COUNT] = { BPFVM_IOPS(BPFVM_IOP_LABEL) };
#undef BPFVM_IOP_LABEL
	const struct bpfvm_dinsn *ip = vm->code;
	const uint8_t *data = pkt->bytes;
	uint32_t len = pkt->caplen;		/* libpcap: buflen */
	uint32_t lenval = pkt->wirelen;		/* libpcap: BPF_LEN */
	uint32_t A = 0, X = 0;
	uint32_t mem[BPFVM_MEMWORDS];
	uint32_t backjumps = 0;
	uint32_t draws = 0;			/* SKF_AD_RANDOM so far */
	struct bpfvm_step st;
#if BPFVM_LEAN
	/* A lean loop keeps @meta on the stack, not in a register it would
	 * have to save: only ancillary loads read it. */
	const struct bpfvm_meta *volatile meta_slot = meta;
#define ANC_META meta_slot
#else
#define ANC_META meta
#endif

	if (IS_LINUX) {
		uint32_t off = skb_data_off(pkt);

		data += off;		/* skb->data */
		len -= off;		/* skb->len */
		lenval = len;
	}
	/* Cells start at 0 (see interp.c on libpcap's garbage).  A lean
	 * loop's program never reads a cell it has not written
	 * (writes_before_reads()), so it skips the clearing. */
	if (!BPFVM_LEAN && vm->uses_mem)
		memset(mem, 0, sizeof(mem));
	(void)lenval;
	(void)meta;
	(void)draws;
	if (BPFVM_TRACED)
		memset(&st, 0, sizeof(st));

/* Start an instruction: reset the step record, jump to the handler. */
#define DISPATCH()                                          \
	do {                                                \
		if (BPFVM_TRACED) {                         \
			st.pc = (uint32_t)(ip - vm->code);  \
			st.mem_written = -1;                \
			st.load_off = 0;                    \
			st.load_size = 0;                   \
			st.load_failed = 0;                 \
			st.jumped = 0;                      \
			st.done = 0;                        \
			st.ret = 0;                         \
		}                                           \
		if (BPFVM_LEAN)                             \
			goto *ip->h;                        \
		goto *dispatch[ip->op];                     \
	} while (0)
/* End an instruction that continues at @t. */
#define GOTO(t)                              \
	do {                                 \
		if (BPFVM_TRACED) {          \
			st.a = A;            \
			st.x = X;            \
			fn(&st, ctx);        \
		}                            \
		ip = (t);                    \
		DISPATCH();                  \
	} while (0)
#define NEXT() GOTO(ip + 1)
/*
 * A conditional jump.  Written as a real branch on purpose: its outcome
 * enters the predictor's global history, which then predicts the next
 * dispatch; selecting the target without a branch (ip->next[c]) measured
 * 1.5x slower overall on mixed traffic.
 */
#define BRANCH(cond)                                  \
	do {                                          \
		int c_ = (cond) != 0;                 \
		if (BPFVM_TRACED)                     \
			st.jumped = (uint8_t)c_;      \
		if (__builtin_expect(c_, 1))          \
			TAKE(ip->next[1]);            \
		TAKE(ip->next[0]);                    \
	} while (0)
/*
 * Go to a branch target; one that is "ret #k" returns at once (tcpdump's
 * programs end every test in a jump to one of two returns: this saves a
 * dispatch per packet, ~5% overall).  The traced run steps onto the ret.
 */
#define TAKE(t)                                                               \
	do {                                                                  \
		const struct bpfvm_dinsn *t_ = (t);                           \
		if (!BPFVM_TRACED && t_->op == BPFVM_I_RET_K)                 \
			return t_->k;                                         \
		GOTO(t_);                                                     \
	} while (0)
/* End the program with @v. */
#define FINISH(v)                            \
	do {                                 \
		uint32_t r_ = (v);           \
		if (BPFVM_TRACED) {          \
			st.a = A;            \
			st.x = X;            \
			st.done = 1;         \
			st.ret = r_;         \
			fn(&st, ctx);        \
		}                            \
		return r_;                   \
	} while (0)
#define LOAD_AT(off, sz)                                \
	do {                                            \
		if (BPFVM_TRACED) {                     \
			st.load_off = (int32_t)(off);   \
			st.load_size = (uint8_t)(sz);   \
		}                                       \
	} while (0)
#define LOAD_FAIL()                          \
	do {                                 \
		if (BPFVM_TRACED)            \
			st.load_failed = 1;  \
		FINISH(0);                   \
	} while (0)
#define RD_4(p) rd32(p)
#define RD_2(p) rd16(p)
#define RD_1(p) (*(p))
/* Constant offset from the data start; the end was computed at decode. */
#define LOAD_ABS(sz)                          \
	do {                                  \
		LOAD_AT(ip->k, sz);           \
		if (ip->kend > len)           \
			LOAD_FAIL();          \
		A = RD_##sz(data + ip->k);    \
	} while (0)
/* libpcap: X + k + size <= buflen in exact arithmetic. */
#define LOAD_IND(sz)                                           \
	do {                                                   \
		LOAD_AT(X + ip->k, sz);                        \
		if ((uint64_t)X + ip->k + (sz) > len)          \
			LOAD_FAIL();                           \
		A = RD_##sz(data + X + ip->k);                 \
	} while (0)
/* linux: offset (int32_t)(X + k); a negative one goes the slow way. */
#define LOAD_INDL(sz)                                                   \
	do {                                                            \
		uint32_t o_ = X + ip->k;                                \
		LOAD_AT(o_, sz);                                        \
		if ((int32_t)o_ >= 0) {                                 \
			if (o_ + (sz) > len)                            \
				LOAD_FAIL();                            \
			A = RD_##sz(data + o_);                         \
		} else {                                                \
			uint64_t v_ = LINUX_LOAD(pkt, (int32_t)o_, (sz)); \
			if (v_ == BPFVM_LOAD_FAILED)                    \
				LOAD_FAIL();                            \
			A = (uint32_t)v_;                               \
		}                                                       \
	} while (0)
#define LOAD_ABSNEG(sz)                                                  \
	do {                                                             \
		NOT_LEAN();                                              \
		uint64_t v_ = linux_load(pkt, (int32_t)ip->k, (sz));     \
		LOAD_AT(ip->k, sz);                                      \
		if (v_ == BPFVM_LOAD_FAILED)                             \
			LOAD_FAIL();                                     \
		A = (uint32_t)v_;                                        \
	} while (0)
/* A fused load + jump; the traced run steps the two halves apart. */
#define FUSED_TAIL(cond)              \
	do {                          \
		if (BPFVM_TRACED)     \
			NEXT();       \
		BRANCH(cond);         \
	} while (0)
#define FUSED_KIND(K, LOAD)                                                            \
	op_LDW_##K##_JEQ: LOAD(4); FUSED_TAIL(A == ip->cmp);                           \
	op_LDH_##K##_JEQ: LOAD(2); FUSED_TAIL(A == ip->cmp);                           \
	op_LDB_##K##_JEQ: LOAD(1); FUSED_TAIL(A == ip->cmp);                           \
	op_LDW_##K##_JGT: LOAD(4); FUSED_TAIL(A > ip->cmp);                            \
	op_LDH_##K##_JGT: LOAD(2); FUSED_TAIL(A > ip->cmp);                            \
	op_LDB_##K##_JGT: LOAD(1); FUSED_TAIL(A > ip->cmp);                            \
	op_LDW_##K##_JGE: LOAD(4); FUSED_TAIL(A >= ip->cmp);                           \
	op_LDH_##K##_JGE: LOAD(2); FUSED_TAIL(A >= ip->cmp);                           \
	op_LDB_##K##_JGE: LOAD(1); FUSED_TAIL(A >= ip->cmp);                           \
	op_LDW_##K##_JSET: LOAD(4); FUSED_TAIL(A & ip->cmp);                           \
	op_LDH_##K##_JSET: LOAD(2); FUSED_TAIL(A & ip->cmp);                           \
	op_LDB_##K##_JSET: LOAD(1); FUSED_TAIL(A & ip->cmp);

	/* A lean loop's first dispatch goes through the table: that is how
	 * "EXPORT" reaches its handler. */
	if (BPFVM_LEAN)
		goto *dispatch[ip->op];
	DISPATCH();


op_EXPORT:
	/* Not an instruction: lean_dispatch() asks for the table. */
	if (BPFVM_LEAN)
		__atomic_store_n(&lean_tables[IS_LINUX], dispatch, __ATOMIC_RELAXED);
	FINISH(0);
op_RET_K: FINISH(ip->k);
op_RET_A: FINISH(A);
op_LD_IMM: A = ip->k; NEXT();
op_LDX_IMM: X = ip->k; NEXT();
op_LD_MEM: A = mem[ip->k]; NEXT();
op_LDX_MEM: X = mem[ip->k]; NEXT();
op_ST:
	mem[ip->k] = A;
	if (BPFVM_TRACED)
		st.mem_written = (int)ip->k;
	NEXT();
op_STX:
	mem[ip->k] = X;
	if (BPFVM_TRACED)
		st.mem_written = (int)ip->k;
	NEXT();
op_LD_LEN: A = LENVAL; NEXT();
op_LDX_LEN: X = LENVAL; NEXT();
op_TAX: X = A; NEXT();
op_TXA: A = X; NEXT();
op_ADD_K: A += ip->k; NEXT();
op_SUB_K: A -= ip->k; NEXT();
op_MUL_K: A *= ip->k; NEXT();
op_DIV_K: A /= ip->k; NEXT();
op_MOD_K: A %= ip->k; NEXT();
op_AND_K: A &= ip->k; NEXT();
op_OR_K: A |= ip->k; NEXT();
op_XOR_K: A ^= ip->k; NEXT();
op_LSH_K: A <<= ip->k; NEXT();
op_RSH_K: A >>= ip->k; NEXT();
op_NEG: A = 0u - A; NEXT();
op_ADD_X: A += X; NEXT();
op_SUB_X: A -= X; NEXT();
op_MUL_X: A *= X; NEXT();
op_DIV_X:
	if (X == 0)
		FINISH(0);
	A /= X;
	NEXT();
op_MOD_X:
	if (X == 0)
		FINISH(0);
	A %= X;
	NEXT();
op_AND_X: A &= X; NEXT();
op_OR_X: A |= X; NEXT();
op_XOR_X: A ^= X; NEXT();
op_LSH_XMASK: A <<= (X & 31); NEXT();
op_RSH_XMASK: A >>= (X & 31); NEXT();
op_LSH_XZERO: A = X < 32 ? A << X : 0; NEXT();
op_RSH_XZERO: A = X < 32 ? A >> X : 0; NEXT();
op_JA: GOTO(ip->next[1]);
op_JA_BACK:
	NOT_LEAN();
	if (++backjumps > BPFVM_BACKJUMP_LIMIT)
		FINISH(0);
	GOTO(ip->next[1]);
op_JEQ_K: BRANCH(A == ip->k);
op_JGT_K: BRANCH(A > ip->k);
op_JGE_K: BRANCH(A >= ip->k);
op_JSET_K: BRANCH(A & ip->k);
op_JEQ_X: BRANCH(A == X);
op_JGT_X: BRANCH(A > X);
op_JGE_X: BRANCH(A >= X);
op_JSET_X: BRANCH(A & X);
op_LDW_ABS: LOAD_ABS(4); NEXT();
op_LDH_ABS: LOAD_ABS(2); NEXT();
op_LDB_ABS: LOAD_ABS(1); NEXT();
op_MSH:
	LOAD_AT(ip->k, 1);
	if (ip->kend > len)
		LOAD_FAIL();
	X = (uint32_t)(data[ip->k] & 0xf) << 2;
	NEXT();
op_LDW_ABSNEG: LOAD_ABSNEG(4); NEXT();
op_LDH_ABSNEG: LOAD_ABSNEG(2); NEXT();
op_LDB_ABSNEG: LOAD_ABSNEG(1); NEXT();
op_MSH_NEG: {
	NOT_LEAN();
	uint64_t b = linux_load(pkt, (int32_t)ip->k, 1);

	LOAD_AT(ip->k, 1);
	if (b == BPFVM_LOAD_FAILED)
		LOAD_FAIL();
	X = (uint32_t)(b & 0xf) << 2;
	NEXT();
}
op_LDW_IND: LOAD_IND(4); NEXT();
op_LDH_IND: LOAD_IND(2); NEXT();
op_LDB_IND: LOAD_IND(1); NEXT();
op_LDW_INDL: LOAD_INDL(4); NEXT();
op_LDH_INDL: LOAD_INDL(2); NEXT();
op_LDB_INDL: LOAD_INDL(1); NEXT();
op_ANC:
	if (BPFVM_LEAN)
		A = anc_field(ip->k, A, X, ANC_META);
	else
		A = anc_load(ip->k, A, X, pkt, meta, &draws);
	NEXT();
op_FAIL:
	LOAD_AT(ip->k, ip->size);
	LOAD_FAIL();
op_ABORT: FINISH(0);
	FUSED_KIND(ABS, LOAD_ABS)
	FUSED_KIND(IND, LOAD_IND)
	FUSED_KIND(INDL, LOAD_INDL)

#undef DISPATCH
#undef GOTO
#undef NEXT
#undef BRANCH
#undef FINISH
#undef LOAD_AT
#undef LOAD_FAIL
#undef RD_4
#undef RD_2
#undef RD_1
#undef LOAD_ABS
#undef LOAD_IND
#undef LOAD_INDL
#undef LOAD_ABSNEG
#undef FUSED_TAIL
#undef FUSED_KIND
#undef TAKE
#undef IS_LINUX
#undef NOT_LEAN
#undef LINUX_LOAD
#undef ANC_META
#undef LENVAL
}
