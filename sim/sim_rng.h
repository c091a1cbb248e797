/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_rng.h - the simulator's random numbers: xoshiro256** seeded through
 * splitmix64. Every consumer (each host's core, each host's workload, the
 * network's spraying, the fault model) owns a separate stream derived
 * from the run's seed and a stream number, so changing one knob (say the
 * loss rate) does not change the draws of the others.
 *
 * The test network (tests/support/testnet.c) draws from the same
 * functions: its streams are bare splitmix64 (sim_rng_splitmix() on one
 * word of state) mapped to ranges with sim_rng_scale() and
 * sim_rng_fraction(). It does not use xoshiro256** because every seed the
 * core's integration tests pin would then give another run.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <math.h>
#include <stdint.h>

struct sim_rng {
	uint64_t s[4]; /* xoshiro256** state, never all zero */
};

/* sim_rng_splitmix() - the next output of the splitmix64 stream x. */
static inline uint64_t sim_rng_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* sim_rng_seed() - stream number stream of the run with seed seed. */
static inline void sim_rng_seed(struct sim_rng *r, uint64_t seed,
				uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);

	for (int i = 0; i < 4; i++)
		r->s[i] = sim_rng_splitmix(&x);
}

static inline uint64_t sim_rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* sim_rng_next() - 64 uniform bits. */
static inline uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = sim_rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = sim_rng_rotl(s[3], 45);
	return result;
}

/* sim_rng_scale() - 64 uniform bits mapped to [0, n) by multiply-shift
 * (bias below 2^-32 for n below 2^32). */
static inline uint64_t sim_rng_scale(uint64_t bits, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)bits * n) >> 64);
}

/* sim_rng_fraction() - 64 uniform bits as a double in [0, 1), 53 bits. */
static inline double sim_rng_fraction(uint64_t bits)
{
	return (double)(bits >> 11) * 0x1.0p-53;
}

/* sim_rng_below() - uniform in [0, n) (n > 0; bias below 2^-32). */
static inline uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
	return sim_rng_scale(sim_rng_next(r), n);
}

/* sim_rng_unit() - uniform double in [0, 1), 53 bits. */
static inline double sim_rng_unit(struct sim_rng *r)
{
	return sim_rng_fraction(sim_rng_next(r));
}

/* sim_rng_chance() - true with probability p_ppb parts per billion. */
static inline int sim_rng_chance(struct sim_rng *r, uint64_t p_ppb)
{
	return p_ppb && sim_rng_below(r, 1000000000ull) < p_ppb;
}

/* sim_rng_exp() - exponential with the given mean. */
static inline double sim_rng_exp(struct sim_rng *r, double mean)
{
	return -mean * log1p(-sim_rng_unit(r));
}

#endif /* SIM_RNG_H */
