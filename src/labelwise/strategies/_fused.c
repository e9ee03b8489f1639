/*
 * labelwise.strategies._fused: one pass over row-major class probabilities that validates each
 * row (sum, minimum) and scores it (least confidence, margin, ratio, entropy), reading each row
 * once, in place, with the GIL released so that threads score disjoint row ranges.
 *
 * score(proba, out, start, stop, kind, lo, hi, sum_in_double) -> bool
 *   proba: C-contiguous (N, C) float32 or float64 buffer, C >= 2 (float32 only for entropy)
 *   out:   writable C-contiguous (N,) float64 buffer; rows start..stop-1 are scored
 *   kind:  0 least confidence (1 - p1), 1 margin (p2 - p1), 2 ratio (p2 / max(p1, tiny)),
 *          3 entropy (-sum p ln p in nats, 0 ln 0 = 0; float32 logarithm, float64 sum)
 *   False when a row has a value below 0 (or NaN) or a sum outside [lo, hi] (summed in the
 *   input's type, or in double when sum_in_double): the caller then runs the exact check.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { LEAST_CONFIDENCE = 0, MARGIN = 1, RATIO = 2, ENTROPY = 3 };

/* One branch-free loop per (input type, sum type, score). */
#define SCORE_ROWS(NAME, T, S, SCORE)                                                       \
    static int NAME(const void *data, Py_ssize_t c, Py_ssize_t start, Py_ssize_t stop,      \
                    double lo, double hi, double *out) {                                    \
        const T *p = (const T *)data;                                                       \
        int ok = 1;                                                                         \
        for (Py_ssize_t i = start; i < stop; i++) {                                         \
            const T *row = p + i * c;                                                       \
            /* second starts below any probability: C >= 2, so a loser always replaces it */ \
            T first = row[0], second = (T)-1, low = row[0];                                 \
            S sum = (S)row[0];                                                              \
            for (Py_ssize_t j = 1; j < c; j++) {                                            \
                T v = row[j];                                                               \
                T loser = v < first ? v : first;                                            \
                sum += (S)v;                                                                \
                low = v < low ? v : low;                                                    \
                second = loser > second ? loser : second;                                   \
                first = v > first ? v : first;                                              \
            }                                                                               \
            ok &= (low >= (T)0) & (sum >= (S)lo) & (sum <= (S)hi);                          \
            out[i] = SCORE(first, second);                                                  \
        }                                                                                   \
        return ok;                                                                          \
    }

#define LC_SCORE(first, second) (1.0 - (double)(first))
#define MARGIN_SCORE(first, second) ((double)(second) - (double)(first))
#define RATIO32_SCORE(first, second) ((double)(second) / (double)((first) > FLT_MIN ? (first) : FLT_MIN))
#define RATIO64_SCORE(first, second) ((double)(second) / ((first) > DBL_MIN ? (first) : DBL_MIN))

SCORE_ROWS(lc_f32, float, float, LC_SCORE)
SCORE_ROWS(lc_f32_sum64, float, double, LC_SCORE)
SCORE_ROWS(lc_f64, double, double, LC_SCORE)
SCORE_ROWS(margin_f32, float, float, MARGIN_SCORE)
SCORE_ROWS(margin_f32_sum64, float, double, MARGIN_SCORE)
SCORE_ROWS(margin_f64, double, double, MARGIN_SCORE)
SCORE_ROWS(ratio_f32, float, float, RATIO32_SCORE)
SCORE_ROWS(ratio_f32_sum64, float, double, RATIO32_SCORE)
SCORE_ROWS(ratio_f64, double, double, RATIO64_SCORE)

typedef int (*row_scorer)(const void *, Py_ssize_t, Py_ssize_t, Py_ssize_t, double, double,
                          double *);

/* [kind][0: float32, 1: float32 summed in double, 2: float64] */
static const row_scorer SCORERS[3][3] = {
    {lc_f32, lc_f32_sum64, lc_f64},
    {margin_f32, margin_f32_sum64, margin_f64},
    {ratio_f32, ratio_f32_sum64, ratio_f64},
};


/* ln x of a positive normal float32, branch-free (vectorizable): x = m 2^e, m in
 * [sqrt(1/2), sqrt(2)), ln(1 + f) by Cephes' logf minimax polynomial (relative error ~1e-7),
 * ln 2 split in two parts so that e ln 2 adds no rounding. */
static inline float log_f32(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)(bits >> 23) - 126; /* x = m 2^e, m in [0.5, 1) */
    bits = (bits & 0x007fffffu) | 0x3f000000u;
    float m;
    memcpy(&m, &bits, sizeof m);
    float small = m < 0.70710678f ? 1.0f : 0.0f; /* move m into [sqrt(1/2), sqrt(2)) */
    float f = (m - 1.0f) + small * m;
    float fe = (float)e - small;
    float z = f * f;
    float y = 7.0376836292e-2f;
    y = y * f - 1.1514610310e-1f;
    y = y * f + 1.1676998740e-1f;
    y = y * f - 1.2420140846e-1f;
    y = y * f + 1.4249322787e-1f;
    y = y * f - 1.6668057665e-1f;
    y = y * f + 2.0000714765e-1f;
    y = y * f - 2.4999993993e-1f;
    y = y * f + 3.3333331174e-1f;
    y = y * f * z;
    y += -2.12194440e-4f * fe;
    y += -0.5f * z;
    return f + y + 0.693359375f * fe;
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
/* One build, the widest vectors the CPU has: GCC picks the clone at load time. */
#define VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

/* plogp[k] = p[k] ln max(p[k], FLT_MIN): 0 at p = 0; NaN and negatives are refused by the row
 * test. */
VECTOR_CLONES
static void plogp_f32(const float *restrict p, float *restrict plogp, Py_ssize_t n) {
    for (Py_ssize_t k = 0; k < n; k++) {
        float v = p[k];
        float safe = v > FLT_MIN ? v : FLT_MIN;
        safe = safe < FLT_MAX ? safe : FLT_MAX; /* +inf: keep the bit trick finite */
        plogp[k] = v * log_f32(safe);
    }
}

/* Terms of about 2.5k values at a time. */
#define ENTROPY_BLOCK_VALUES 2560

static int entropy_rows(const void *data, Py_ssize_t c, Py_ssize_t start, Py_ssize_t stop,
                        double lo, double hi, int sum_in_double, double *out) {
    const float *p = (const float *)data;
    Py_ssize_t block = c >= ENTROPY_BLOCK_VALUES ? 1 : ENTROPY_BLOCK_VALUES / c;
    float *terms = (float *)malloc(sizeof(float) * (size_t)(block * c));
    if (terms == NULL) {
        return -1;
    }
    int ok = 1;
    for (Py_ssize_t i0 = start; i0 < stop; i0 += block) {
        Py_ssize_t rows = stop - i0 < block ? stop - i0 : block;
        plogp_f32(p + i0 * c, terms, rows * c);
        for (Py_ssize_t r = 0; r < rows; r++) {
            const float *row = p + (i0 + r) * c;
            const float *t = terms + r * c;
            double h = 0.0, sum64 = 0.0;
            float sum32 = 0.0f, low = row[0];
            for (Py_ssize_t j = 0; j < c; j++) {
                h += (double)t[j];
                sum32 += row[j];
                sum64 += (double)row[j];
                low = row[j] < low ? row[j] : low;
            }
            double sum = sum_in_double ? sum64 : (double)sum32;
            ok &= (low >= 0.0f) & (sum >= (sum_in_double ? lo : (double)(float)lo)) &
                  (sum <= (sum_in_double ? hi : (double)(float)hi));
            out[i0 + r] = -h;
        }
    }
    free(terms);
    return ok;
}

static PyObject *score(PyObject *self, PyObject *args) {
    PyObject *proba_obj, *out_obj;
    Py_ssize_t start, stop;
    int kind, sum_in_double;
    double lo, hi;
    if (!PyArg_ParseTuple(args, "OOnniddp", &proba_obj, &out_obj, &start, &stop, &kind, &lo, &hi,
                          &sum_in_double)) {
        return NULL;
    }
    Py_buffer proba, out;
    if (PyObject_GetBuffer(proba_obj, &proba, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(out_obj, &out, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) <
        0) {
        PyBuffer_Release(&proba);
        return NULL;
    }
    const char *error = NULL;
    int is_f32 = proba.itemsize == 4 && proba.format && proba.format[0] == 'f' && !proba.format[1];
    int is_f64 = proba.itemsize == 8 && proba.format && proba.format[0] == 'd' && !proba.format[1];
    if (proba.ndim != 2 || (!is_f32 && !is_f64) || proba.shape[1] < 2) {
        error = "proba must be a C-contiguous (N, C) float32 or float64 buffer with C >= 2";
    } else if (out.ndim != 1 || out.itemsize != 8 || !out.format || out.format[0] != 'd' ||
               out.shape[0] != proba.shape[0]) {
        error = "out must be a C-contiguous float64 buffer of N values";
    } else if (start < 0 || stop > proba.shape[0] || start > stop) {
        error = "rows out of range";
    } else if (kind < LEAST_CONFIDENCE || kind > ENTROPY) {
        error = "kind must be 0 (least confidence), 1 (margin), 2 (ratio) or 3 (entropy)";
    } else if (kind == ENTROPY && !is_f32) {
        error = "the compiled entropy takes float32 rows only";
    }
    if (error != NULL) {
        PyBuffer_Release(&proba);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, error);
        return NULL;
    }
    Py_ssize_t c = proba.shape[1];
    int ok;
    Py_BEGIN_ALLOW_THREADS;
    if (kind == ENTROPY) {
        ok = entropy_rows(proba.buf, c, start, stop, lo, hi, sum_in_double, (double *)out.buf);
    } else {
        row_scorer scorer = SCORERS[kind][is_f64 ? 2 : (sum_in_double ? 1 : 0)];
        ok = scorer(proba.buf, c, start, stop, lo, hi, (double *)out.buf);
    }
    Py_END_ALLOW_THREADS;
    if (ok < 0) {
        PyBuffer_Release(&proba);
        PyBuffer_Release(&out);
        return PyErr_NoMemory();
    }
    PyBuffer_Release(&proba);
    PyBuffer_Release(&out);
    return PyBool_FromLong(ok);
}

static PyMethodDef methods[] = {
    {"score", score, METH_VARARGS,
     "score(proba, out, start, stop, kind, lo, hi, sum_in_double) -> bool: validate and score "
     "rows start..stop-1 of a C-contiguous (N, C) float32/float64 buffer into out (float64)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fused", NULL, -1, methods};

PyMODINIT_FUNC PyInit__fused(void) { return PyModule_Create(&module); }
