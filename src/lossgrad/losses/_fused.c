/* One-pass cross-entropy kernels: the value and the gradient of each row while the row is in cache.
 *
 * Built by setuptools as lossgrad.losses._fused (pyproject.toml); lossgrad/losses/kernels.py is its
 * only caller and checks every argument before it gets here. Each softmax row is read three times:
 * pass 1 finds its maximum (from memory), pass 2 writes e = exp(z − max) into the gradient buffer
 * and sums it, pass 3 turns e into the gradient in place — passes 2 and 3 hit the L2 cache, so the
 * logits are read from memory once and the gradient written once. The gradient buffer may be the
 * logits themselves (in place): every pass reads an entry before writing it.
 *
 * Vectorisation: NumPy's exp is SIMD but libm's expf called in a loop is not, so exp and log1p
 * are written here as branch-free polynomials that the compiler turns into AVX-512/AVX2 code.
 * Reductions go through LANES independent accumulators (float lanes per block, double across
 * blocks) so the compiler may vectorise them without -ffast-math, which would also break NaN
 * propagation. The hot functions are
 * compiled for several instruction sets (target_clones) and the best is picked at load time.
 *
 * Threads: the rows are split into contiguous ranges, one per thread (pthreads, GIL released).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define CLONES
#endif

#define LANES 16
/* Sums run in the row's type over blocks of BLOCK entries (LANES partial sums of 16 terms each,
 * which vectorise) and in double across blocks, so a 32768-entry float row sums as accurately as
 * its terms are. */
#define BLOCK (16 * LANES)

/* Entries of the block starting at c that whole lane groups cover (the rest is a scalar tail). */
static inline int block_end(Py_ssize_t c, Py_ssize_t v)
{
    const Py_ssize_t left = (v - c) / LANES * LANES;
    return left < BLOCK ? (int)left : BLOCK;
}
#define MAX_THREADS 64

/* ---------------------------------------------------------------------------------------------
 * exp on x ≤ 0 and log1p on [0, 1], branch-free.
 *
 * exp: x = n·ln2 + r with |r| ≤ ln2/2 (n rounded by the 1.5·2^p trick; ln2 split in a high part
 * exact in n·ln2_hi and a low correction), e^r by its Taylor series (to r^7 in float: error below
 * 6e-9 relative; to r^13 in double: below 5e-18), times 2^n built in the exponent bits. Arguments
 * below the smallest normal result give 0 (the exact value is subnormal or underflows).
 * log1p(e) = 2·atanh(s) with s = e/(2+e) ∈ [0, 1/3]: an odd series in s with no cancellation. */

static inline float exp_f32(float x)
{
    const float lo = -87.33654f;
    float xc = x < lo ? lo : x;
    float t = xc * 1.44269504f + 12582912.0f;
    float n = t - 12582912.0f;
    float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < lo ? 0.0f : p * scale;
}

static inline double exp_f64(double x)
{
    const double lo = -708.39641853226408;
    double xc = x < lo ? lo : x;
    double t = xc * 1.4426950408889634 + 6755399441055744.0;
    double n = t - 6755399441055744.0;
    double r = xc - n * 6.93147180369123816490e-01 - n * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t bits = ((int64_t)n + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < lo ? 0.0 : p * scale;
}

static inline float log1p_unit_f32(float e)
{
    float s = e / (2.0f + e), q = s * s;
    float p = 1.0f / 13;
    p = p * q + 1.0f / 11;
    p = p * q + 1.0f / 9;
    p = p * q + 1.0f / 7;
    p = p * q + 1.0f / 5;
    p = p * q + 1.0f / 3;
    p = p * q + 1.0f;
    return 2.0f * s * p;
}

static inline double log1p_unit_f64(double e)
{
    double s = e / (2.0 + e), q = s * s;
    double p = 1.0 / 33;
    for (int k = 31; k >= 1; k -= 2)  /* constant trip count: unrolled by the compiler */
        p = p * q + 1.0 / k;
    return 2.0 * s * p;
}

/* ---------------------------------------------------------------------------------------------
 * The kernels, written once for float and double (T, SUF) by the macro below.
 *
 * Row problem. z: the row's V logits; w: class weights (NULL = all 1; W = Σ w); α: label
 * smoothing; ζ: z-loss; a row's target distribution t = (1−α)·onehot(y) + α/V (sparse) or
 * (1−α)·t + α/V (dense); scale: the row's multiplier of the cross-entropy part (Keras's class
 * weight of the row, 1 otherwise); f: ∂(reduced loss)/∂(row loss).
 *   loss = scale·Σ_c w_c t_c (lse − z_c) + ζ·lse²
 *   grad = f·[(scale·Σ_c w_c t_c + 2ζ·lse)·softmax(z) − scale·w·t]
 * A zero weight times an infinite term is 0, as in the reference path (core.times). */

typedef struct {
    const void *z, *t, *w, *scale, *factor;
    const int64_t *labels;
    void *g, *loss, *lse;
    Py_ssize_t v, begin, end;
    double alpha, zeta, wsum;
} CeJob;

typedef struct {
    const void *x, *y, *pos_weight, *factor;
    void *g, *loss;
    Py_ssize_t n, c, begin, end;
    double alpha;
    int factor_is_scalar;
} BceJob;

#define DEFINE_KERNELS(T, SUF, EXP, LOG1P, ROW_EXP)                                                \
                                                                                                   \
    static inline T row_max_##SUF(const T *z, Py_ssize_t v)                                        \
    {                                                                                              \
        T mx[LANES];                                                                               \
        for (int l = 0; l < LANES; l++) mx[l] = -INFINITY;                                         \
        Py_ssize_t c = 0;                                                                          \
        for (; c + LANES <= v; c += LANES)                                                         \
            for (int l = 0; l < LANES; l++) mx[l] = z[c + l] > mx[l] ? z[c + l] : mx[l];           \
        for (; c < v; c++) mx[0] = z[c] > mx[0] ? z[c] : mx[0];                                    \
        T m = mx[0];                                                                               \
        for (int l = 1; l < LANES; l++) m = mx[l] > m ? mx[l] : m;                                 \
        return m;                                                                                  \
    }                                                                                              \
                                                                                                   \
    /* e = exp(z − m) into e (may be z, or NULL: value only); returns Σ e. A row whose maximum is  \
     * ±inf is shifted by 0 instead (exact) and goes through libm's exp: exp(+inf) = +inf. */      \
    static inline double row_exp_##SUF(const T *z, T *e, Py_ssize_t v, T m, int exact)             \
    {                                                                                              \
        double dacc[LANES] = {0}, s = 0;                                                           \
        Py_ssize_t c = 0;                                                                          \
        if (exact) {                                                                               \
            for (; c < v; c++) {                                                                   \
                const T x = (T)exp((double)(z[c] - m));                                            \
                if (e) e[c] = x;                                                                   \
                s += x;                                                                            \
            }                                                                                      \
            return s;                                                                              \
        }                                                                                          \
        for (int kend; c + LANES <= v; c += kend) {                                                \
            kend = block_end(c, v);                                                                \
            T acc[LANES] = {0};                                                                    \
            if (e)                                                                                 \
                for (int k = 0; k < kend; k += LANES)                                              \
                    for (int l = 0; l < LANES; l++) {                                              \
                        const T x = EXP(z[c + k + l] - m);                                         \
                        e[c + k + l] = x;                                                          \
                        acc[l] += x;                                                               \
                    }                                                                              \
            else                                                                                   \
                for (int k = 0; k < kend; k += LANES)                                              \
                    for (int l = 0; l < LANES; l++) acc[l] += EXP(z[c + k + l] - m);               \
            for (int l = 0; l < LANES; l++) dacc[l] += acc[l];                                     \
        }                                                                                          \
        for (; c < v; c++) {                                                                       \
            const T x = EXP(z[c] - m);                                                             \
            if (e) e[c] = x;                                                                       \
            s += x;                                                                                \
        }                                                                                          \
        for (int l = 0; l < LANES; l++) s += dacc[l];                                              \
        return s;                                                                                  \
    }                                                                                              \
                                                                                                   \
    /* Σ_c w_c (z_c − m), 0 where w_c = 0 (w NULL: all 1). */                                      \
    static inline double row_wsum_##SUF(const T *z, const T *w, Py_ssize_t v, T m)                 \
    {                                                                                              \
        double dacc[LANES] = {0}, s = 0;                                                           \
        Py_ssize_t c = 0;                                                                          \
        for (int kend; c + LANES <= v; c += kend) {                                                \
            kend = block_end(c, v);                                                                \
            T acc[LANES] = {0};                                                                    \
            if (w)                                                                                 \
                for (int k = 0; k < kend; k += LANES)                                              \
                    for (int l = 0; l < LANES; l++) {                                              \
                        const Py_ssize_t i = c + k + l;                                            \
                        acc[l] += w[i] != 0 ? w[i] * (z[i] - m) : 0;                               \
                    }                                                                              \
            else                                                                                   \
                for (int k = 0; k < kend; k += LANES)                                              \
                    for (int l = 0; l < LANES; l++) acc[l] += z[c + k + l] - m;                    \
            for (int l = 0; l < LANES; l++) dacc[l] += acc[l];                                     \
        }                                                                                          \
        for (; c < v; c++) s += !w ? z[c] - m : w[c] != 0 ? (double)w[c] * (z[c] - m) : 0.0;       \
        for (int l = 0; l < LANES; l++) s += dacc[l];                                              \
        return s;                                                                                  \
    }                                                                                              \
                                                                                                   \
    /* g ← a·g − b·w (w NULL: − b) in place. */                                                    \
    static inline void row_axpb_##SUF(T *g, const T *w, Py_ssize_t v, T a, T b)                    \
    {                                                                                              \
        if (w)                                                                                     \
            for (Py_ssize_t c = 0; c < v; c++) g[c] = a * g[c] - b * w[c];                         \
        else                                                                                       \
            for (Py_ssize_t c = 0; c < v; c++) g[c] = a * g[c] - b;                                \
    }                                                                                              \
                                                                                                   \
    static double times_##SUF(double a, double b) { return a == 0 ? 0.0 : a * b; }                 \
                                                                                                   \
    CLONES static void sparse_rows_##SUF(const CeJob *j)                                           \
    {                                                                                              \
        const Py_ssize_t v = j->v;                                                                 \
        const T *w = j->w, *scl = j->scale, *fac = j->factor;                                      \
        const double a = j->alpha, av = j->alpha / (double)v;                                      \
        for (Py_ssize_t i = j->begin; i < j->end; i++) {                                           \
            const T *z = (const T *)j->z + i * v;                                                  \
            T *g = j->g ? (T *)j->g + i * v : NULL;                                                \
            const int64_t y = j->labels[i];                                                        \
            const int64_t yc = y < 0 ? 0 : y;  /* an ignored row still gets its lse */             \
            const T m0 = row_max_##SUF(z, v), m = isfinite(m0) ? m0 : 0;                           \
            const double zy = (double)z[yc] - m;                                                   \
            const double zw = a != 0 ? row_wsum_##SUF(z, w, v, m) : 0.0;                           \
            const double s = ROW_EXP(z, g, v, m, !isfinite(m0));                                   \
            const double ls = log(s), lse = m + ls;                                                \
            const double wy = w ? w[yc] : 1.0, scale = scl ? scl[i] : 1.0;                         \
            double ce = times_##SUF(1 - a, times_##SUF(wy, ls - zy));                              \
            if (a != 0) ce += av * (j->wsum * ls - zw);                                            \
            const double zl = times_##SUF(j->zeta, lse * lse); /* ζ = 0 spares an infinite lse */ \
            ((T *)j->loss)[i] = y < 0 ? 0 : (T)(times_##SUF(scale, ce) + zl);                      \
            ((T *)j->lse)[i] = (T)lse;                                                             \
            if (!g) continue;                                                                      \
            if (y < 0) {                                                                           \
                memset(g, 0, (size_t)v * sizeof(T));                                               \
                continue;                                                                          \
            }                                                                                      \
            const double f = fac ? fac[i] : 1.0;                                                   \
            const double coef = scale * ((1 - a) * wy + av * j->wsum) + 2 * j->zeta * lse;         \
            row_axpb_##SUF(g, w, v, (T)(f * coef / s), (T)(f * scale * av));                       \
            g[y] -= (T)(f * scale * (1 - a) * wy);                                                 \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    /* Dense targets: pass 2 also sums A = Σ w t' and B = Σ w t' (z − m), t' smoothed targets. */ \
    static inline T dense_term_##SUF(T t, const T *w, Py_ssize_t c, T keep, T add)                 \
    {                                                                                              \
        return (w ? w[c] : 1) * (t * keep + add);                                                  \
    }                                                                                              \
                                                                                                   \
    static inline double row_exp_dense_##SUF(const T *z, const T *t, const T *w, T *e,             \
                                             Py_ssize_t v, T m, int exact, double a, double *A,    \
                                             double *B)                                            \
    {                                                                                              \
        double ds[LANES] = {0}, da[LANES] = {0}, db[LANES] = {0}, s = 0;                           \
        const T keep = (T)(1 - a), add = (T)(a / (double)v);                                       \
        Py_ssize_t c = 0;                                                                          \
        *A = *B = 0;                                                                               \
        if (!exact)                                                                                \
            for (int kend; c + LANES <= v; c += kend) {                                            \
                kend = block_end(c, v);                                                            \
                T as[LANES] = {0}, aa[LANES] = {0}, ab[LANES] = {0};                               \
                for (int k = 0; k < kend; k += LANES)                                              \
                    for (int l = 0; l < LANES; l++) {                                              \
                        const Py_ssize_t i = c + k + l;                                            \
                        const T x = z[i], wt = dense_term_##SUF(t[i], w, i, keep, add);            \
                        const T ex = EXP(x - m);                                                   \
                        if (e) e[i] = ex;                                                          \
                        as[l] += ex;                                                               \
                        aa[l] += wt;                                                               \
                        ab[l] += wt != 0 ? wt * (x - m) : 0;                                       \
                    }                                                                              \
                for (int l = 0; l < LANES; l++) ds[l] += as[l], da[l] += aa[l], db[l] += ab[l];    \
            }                                                                                      \
        for (; c < v; c++) { /* the tail, or a row whose maximum is ±inf (shift 0, libm's exp) */  \
            const T x = z[c], wt = dense_term_##SUF(t[c], w, c, keep, add);                        \
            const T ex = exact ? (T)exp((double)(x - m)) : EXP(x - m);                             \
            if (e) e[c] = ex;                                                                      \
            s += ex;                                                                               \
            *A += wt;                                                                              \
            *B += wt != 0 ? (double)wt * (x - m) : 0.0;                                            \
        }                                                                                          \
        for (int l = 0; l < LANES; l++) s += ds[l], *A += da[l], *B += db[l];                      \
        return s;                                                                                  \
    }                                                                                              \
                                                                                                   \
    CLONES static void dense_rows_##SUF(const CeJob *j)                                            \
    {                                                                                              \
        const Py_ssize_t v = j->v;                                                                 \
        const T *w = j->w, *scl = j->scale, *fac = j->factor;                                      \
        const T keep = (T)(1 - j->alpha), add = (T)(j->alpha / (double)v);                         \
        for (Py_ssize_t i = j->begin; i < j->end; i++) {                                           \
            const T *z = (const T *)j->z + i * v, *t = (const T *)j->t + i * v;                    \
            T *g = j->g ? (T *)j->g + i * v : NULL;                                                \
            const T m0 = row_max_##SUF(z, v), m = isfinite(m0) ? m0 : 0;                           \
            double A, B;                                                                           \
            const double s =                                                                       \
                row_exp_dense_##SUF(z, t, w, g, v, m, !isfinite(m0), j->alpha, &A, &B);            \
            const double ls = log(s), lse = m + ls;                                                \
            const double scale = scl ? scl[i] : 1.0;                                               \
            /* A = 0: every w·t is 0 (weights, targets ≥ 0), so the row's loss is 0. */            \
            const double ce = times_##SUF(A, ls) - B;                                              \
            ((T *)j->loss)[i] = (T)(times_##SUF(scale, ce) + times_##SUF(j->zeta, lse * lse));     \
            ((T *)j->lse)[i] = (T)lse;                                                             \
            if (!g) continue;                                                                      \
            const double f = fac ? fac[i] : 1.0;                                                   \
            const T p = (T)(f * (scale * A + 2 * j->zeta * lse) / s), q = (T)(f * scale);          \
            if (w)                                                                                 \
                for (Py_ssize_t c = 0; c < v; c++)                                                 \
                    g[c] = p * g[c] - q * dense_term_##SUF(t[c], w, c, keep, add);                 \
            else                                                                                   \
                for (Py_ssize_t c = 0; c < v; c++)                                                 \
                    g[c] = p * g[c] - q * dense_term_##SUF(t[c], NULL, c, keep, add);              \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    /* Sigmoid BCE entry by entry: softplus(±x) = max(±x, 0) + log1p(e^{−|x|}), σ from the same    \
     * exp; y ← y(1−α) + α/2; pos = pw·y. */                                                       \
    CLONES static void bce_##SUF(const BceJob *j)                                                  \
    {                                                                                              \
        const T *pw = j->pos_weight, *fac = j->factor;                                             \
        const T keep = (T)(1 - j->alpha), add = (T)(j->alpha / 2);                                 \
        for (Py_ssize_t i = j->begin; i < j->end; i++) {                                           \
            const T *x = (const T *)j->x + i * j->c, *y = (const T *)j->y + i * j->c;              \
            T *loss = (T *)j->loss + i * j->c, *g = j->g ? (T *)j->g + i * j->c : NULL;            \
            const T *f = fac ? (j->factor_is_scalar ? fac : fac + i * j->c) : NULL;                \
            for (Py_ssize_t c = 0; c < j->c; c++) {                                                \
                const T xc = x[c], yc = y[c] * keep + add, pos = pw ? pw[c] * yc : yc;             \
                const T ax = xc < 0 ? -xc : xc, e = EXP(-ax), sp = LOG1P(e);                       \
                const T up = (xc < 0 ? -xc : 0) + sp, down = (xc > 0 ? xc : 0) + sp;               \
                loss[c] = (pos != 0 ? pos * up : 0) + (1 - yc != 0 ? (1 - yc) * down : 0);         \
                if (g) {                                                                           \
                    const T big = 1 / (1 + e), small = e * big;                                    \
                    const T sig = xc >= 0 ? big : small, sig_neg = xc >= 0 ? small : big;          \
                    const T fc = f ? f[j->factor_is_scalar ? 0 : c] : 1;                           \
                    g[c] = fc * ((1 - yc) * sig - pos * sig_neg);                                  \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

/* ---------------------------------------------------------------------------------------------
 * The float32 softmax row's exp pass with AVX-512 intrinsics: vscalefps builds 2^n·p and
 * underflows to 0 by itself, and vrndscaleps rounds, so the pass needs about half the
 * instructions of the portable loop above (no bit assembly of 2^n, no clamp-and-flush).
 * Same polynomial, same block sums; chosen at run time when the CPU has AVX-512. */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define HAVE_AVX512_PATH 1

static int has_avx512;

/* Σ of a block's 16 lanes of 16 floats, added into the float64 lanes. */
__attribute__((target("avx512f"))) static inline __m512d add_lanes(__m512d dacc, __m512 acc)
{
    const __m256 low = _mm512_castps512_ps256(acc);
    const __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1));
    return _mm512_add_pd(_mm512_add_pd(dacc, _mm512_cvtps_pd(low)), _mm512_cvtps_pd(high));
}

__attribute__((target("avx512f"))) static double row_exp_avx512(const float *z, float *e,
                                                                 Py_ssize_t v, float m)
{
    /* Below −104 even the subnormal result is 0; the clamp keeps n·ln2 finite, and max(lo, x)
     * returns x when x is NaN, so NaN still propagates. */
    const __m512 shift = _mm512_set1_ps(m), lo = _mm512_set1_ps(-104.0f);
    const __m512 l2e = _mm512_set1_ps(1.44269504f), hi_ln2 = _mm512_set1_ps(0.693359375f);
    const __m512 lo_ln2 = _mm512_set1_ps(-2.12194440e-4f);
    __m512d dacc = _mm512_setzero_pd();
    __m512 acc = _mm512_setzero_ps();
    Py_ssize_t c = 0;
    int in_block = 0;
    for (; c + LANES <= v; c += LANES) {
        const __m512 x = _mm512_max_ps(lo, _mm512_sub_ps(_mm512_loadu_ps(z + c), shift));
        const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, l2e),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const __m512 r = _mm512_fnmadd_ps(n, lo_ln2, _mm512_fnmadd_ps(n, hi_ln2, x));
        __m512 p = _mm512_set1_ps(1.0f / 5040);
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
        const __m512 y = _mm512_scalef_ps(p, n);
        if (e) _mm512_storeu_ps(e + c, y);
        acc = _mm512_add_ps(acc, y);
        if (++in_block == BLOCK / LANES) {
            dacc = add_lanes(dacc, acc);
            acc = _mm512_setzero_ps();
            in_block = 0;
        }
    }
    double s = _mm512_reduce_add_pd(add_lanes(dacc, acc));
    for (; c < v; c++) {
        const float x = exp_f32(z[c] - m);
        if (e) e[c] = x;
        s += x;
    }
    return s;
}
#endif

static inline double row_exp_f32(const float *z, float *e, Py_ssize_t v, float m, int exact);

static double row_exp_fast_f32(const float *z, float *e, Py_ssize_t v, float m, int exact)
{
#ifdef HAVE_AVX512_PATH
    if (has_avx512 && !exact) return row_exp_avx512(z, e, v, m);
#endif
    return row_exp_f32(z, e, v, m, exact);
}

DEFINE_KERNELS(float, f32, exp_f32, log1p_unit_f32, row_exp_fast_f32)
DEFINE_KERNELS(double, f64, exp_f64, log1p_unit_f64, row_exp_f64)

/* ---------------------------------------------------------------------------------------------
 * Threads: rows [0, n) in one contiguous range per thread; the caller's thread takes the first. */

typedef struct {
    void (*run)(const void *);
    const void *job;
} Task;

static void *run_task(void *arg)
{
    Task *task = arg;
    task->run(task->job);
    return NULL;
}

/* jobs: an array of `count` job structs of `size` bytes, each with its begin/end already set. */
static int run_parallel(void (*run)(const void *), void *jobs, size_t size, int count)
{
    pthread_t tid[MAX_THREADS];
    Task tasks[MAX_THREADS];
    int started[MAX_THREADS] = {0}, failed = 0;
    for (int k = 1; k < count; k++) {
        tasks[k] = (Task){run, (char *)jobs + k * size};
        started[k] = pthread_create(&tid[k], NULL, run_task, &tasks[k]) == 0;
        if (!started[k]) run(tasks[k].job);  /* no thread to be had: do it here */
    }
    run(jobs);
    for (int k = 1; k < count; k++)
        if (started[k]) failed |= pthread_join(tid[k], NULL) != 0;
    return failed;
}

#define SPLIT(JOBS, FIRST, N, COUNT)                                                               \
    for (int k_ = 0; k_ < (COUNT); k_++) {                                                         \
        (JOBS)[k_] = (FIRST);                                                                      \
        (JOBS)[k_].begin = (N) * k_ / (COUNT);                                                     \
        (JOBS)[k_].end = (N) * (k_ + 1) / (COUNT);                                                 \
    }

/* ---------------------------------------------------------------------------------------------
 * Python entry points. Arguments are NumPy arrays already checked by kernels.py: C-contiguous,
 * the compute dtype (float32 or float64) throughout, labels int64, None for what is absent. */

static int get(PyObject *obj, Py_buffer *view, int writable)
{
    view->obj = NULL;
    if (obj == Py_None) {
        view->buf = NULL;
        return 0;
    }
    return PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0));
}

static void release(Py_buffer *views, int count)
{
    for (int k = 0; k < count; k++)
        if (views[k].obj) PyBuffer_Release(&views[k]);
}

static int clamp_threads(int threads)
{
    return threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
}

static void ce_f32(const void *j) { sparse_rows_f32(j); }
static void ce_f64(const void *j) { sparse_rows_f64(j); }
static void dense_f32(const void *j) { dense_rows_f32(j); }
static void dense_f64(const void *j) { dense_rows_f64(j); }
static void bce_run_f32(const void *j) { bce_f32(j); }
static void bce_run_f64(const void *j) { bce_f64(j); }

/* softmax_rows(z, targets, labels, g, w, scale, factor, loss, lse, alpha, zeta, wsum, double,
 * threads): targets (dense) or labels (sparse, −1 = ignored) — exactly one is not None. */
static PyObject *softmax_rows(PyObject *self, PyObject *args)
{
    PyObject *o[9];
    double alpha, zeta, wsum;
    int is_double, threads;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOdddpi", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &o[7], &o[8], &alpha, &zeta, &wsum, &is_double, &threads))
        return NULL;
    Py_buffer b[9];
    const int writable[9] = {0, 0, 0, 1, 0, 0, 0, 1, 1};
    for (int k = 0; k < 9; k++)
        if (get(o[k], &b[k], writable[k]) < 0) {
            release(b, k);
            return NULL;
        }
    const Py_ssize_t n = b[7].len / (is_double ? 8 : 4);
    const Py_ssize_t v = n ? b[0].len / (is_double ? 8 : 4) / n : 0;
    CeJob first = {b[0].buf, b[1].buf, b[4].buf, b[5].buf, b[6].buf, b[2].buf,
                   b[3].buf, b[7].buf, b[8].buf, v, 0, 0, alpha, zeta, wsum};
    CeJob jobs[MAX_THREADS];
    const int count = clamp_threads(n < threads ? (int)(n ? n : 1) : threads);
    SPLIT(jobs, first, n, count);
    void (*run)(const void *) = b[1].buf ? (is_double ? dense_f64 : dense_f32)
                                         : (is_double ? ce_f64 : ce_f32);
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = run_parallel(run, jobs, sizeof jobs[0], count);
    Py_END_ALLOW_THREADS
    release(b, 9);
    if (failed) return PyErr_Format(PyExc_RuntimeError, "a kernel thread failed to join");
    Py_RETURN_NONE;
}

/* sigmoid_bce(x, y, pos_weight, factor, g, loss, factor_is_scalar, alpha, columns, double,
 * threads) */
static PyObject *sigmoid_bce(PyObject *self, PyObject *args)
{
    PyObject *o[6];
    int scalar, is_double, threads;
    double alpha;
    Py_ssize_t columns;
    if (!PyArg_ParseTuple(args, "OOOOOOpdnpi", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &scalar,
                          &alpha, &columns, &is_double, &threads))
        return NULL;
    Py_buffer b[6];
    const int writable[6] = {0, 0, 0, 0, 1, 1};
    for (int k = 0; k < 6; k++)
        if (get(o[k], &b[k], writable[k]) < 0) {
            release(b, k);
            return NULL;
        }
    const Py_ssize_t size = b[5].len / (is_double ? 8 : 4);
    const Py_ssize_t n = columns ? size / columns : 0;
    BceJob first = {b[0].buf, b[1].buf, b[2].buf, b[3].buf, b[4].buf, b[5].buf,
                    n, columns, 0, 0, alpha, scalar};
    BceJob jobs[MAX_THREADS];
    const int count = clamp_threads(n < threads ? (int)(n ? n : 1) : threads);
    SPLIT(jobs, first, n, count);
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = run_parallel(is_double ? bce_run_f64 : bce_run_f32, jobs, sizeof jobs[0], count);
    Py_END_ALLOW_THREADS
    release(b, 6);
    if (failed) return PyErr_Format(PyExc_RuntimeError, "a kernel thread failed to join");
    Py_RETURN_NONE;
}

/* use_avx512(flag) -> whether the AVX-512 exp pass was on: the tests run both exp passes. */
static PyObject *use_avx512(PyObject *self, PyObject *arg)
{
    const int wanted = PyObject_IsTrue(arg);
    if (wanted < 0) return NULL;
#ifdef HAVE_AVX512_PATH
    const int before = has_avx512;
    has_avx512 = wanted && __builtin_cpu_supports("avx512f");
    return PyBool_FromLong(before);
#else
    Py_RETURN_FALSE;
#endif
}

static PyMethodDef methods[] = {
    {"use_avx512", use_avx512, METH_O,
     "Turn the AVX-512 exp pass on (where the CPU has it) or off; returns the previous state."},
    {"softmax_rows", softmax_rows, METH_VARARGS,
     "Softmax cross-entropy of each row, its lse and (optionally) its gradient, in one pass."},
    {"sigmoid_bce", sigmoid_bce, METH_VARARGS,
     "Sigmoid binary cross-entropy and its gradient, entry by entry."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fused",
                                    "One-pass cross-entropy kernels (see kernels.py).", -1,
                                    methods};

PyMODINIT_FUNC PyInit__fused(void)
{
#ifdef HAVE_AVX512_PATH
    __builtin_cpu_init();
    has_avx512 = __builtin_cpu_supports("avx512f");
#endif
    return PyModule_Create(&module);
}
