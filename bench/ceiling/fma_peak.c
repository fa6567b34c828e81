/*
 * The machine's fp32 FMA peak: every thread runs independent chains of 512-bit (or, without
 * AVX-512, 256-bit) fused multiply-adds from registers only. The best of 5 runs, in GFLOP/s,
 * on stdout. Built and run by bench/ceiling/gemm.ts: gcc -O3 -march=native -fopenmp.
 */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define SUM _mm512_reduce_add_ps
#else
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
static float SUM(__m256 v) {
  float x[8];
  _mm256_storeu_ps(x, v);
  return x[0] + x[1] + x[2] + x[3] + x[4] + x[5] + x[6] + x[7];
}
#endif

int main(void) {
  const long iters = 100000000; /* per thread, 10 FMAs each */
  double best = 0;
  float sink = 0;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = omp_get_wtime();
#pragma omp parallel reduction(+ : sink)
    {
      /* 10 independent accumulators: enough to cover FMA latency on two pipes. Each starts from
         its own value: chains that start equal are one chain to the compiler, which then keeps a
         single FMA in the loop (latency-bound) while the count below says ten. */
      vec a0 = SET1(1.0f), a1 = SET1(1.1f), a2 = SET1(1.2f), a3 = SET1(1.3f), a4 = SET1(1.4f);
      vec a5 = SET1(1.5f), a6 = SET1(1.6f), a7 = SET1(1.7f), a8 = SET1(1.8f), a9 = SET1(1.9f);
      const vec m = SET1(0.9999999f), c = SET1(1e-7f);
      for (long i = 0; i < iters; i++) {
        a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c); a3 = FMA(a3, m, c); a4 = FMA(a4, m, c);
        a5 = FMA(a5, m, c); a6 = FMA(a6, m, c); a7 = FMA(a7, m, c); a8 = FMA(a8, m, c); a9 = FMA(a9, m, c);
      }
      sink += SUM(ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(ADD(a4, a5), ADD(a6, a7)), ADD(a8, a9))));
    }
    double seconds = omp_get_wtime() - t0;
    double gflops = 2.0 * LANES * 10 * iters * omp_get_max_threads() / seconds / 1e9;
    if (gflops > best) best = gflops;
  }
  printf("{\"fma_peak_gflop_s\": %.1f, \"vector_bits\": %d, \"threads\": %d, \"sink\": %.1f}\n", best, LANES * 32,
         omp_get_max_threads(), sink);
  return 0;
}
