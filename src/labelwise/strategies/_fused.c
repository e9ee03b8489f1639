/*
 * labelwise.strategies._fused: one pass over row-major class probabilities that validates each
 * row and scores it, for the uncertainty scores built on the two largest values of a row
 * (least confidence, margin, ratio).
 *
 * The numpy path (labelwise.strategies.uncertainty) copies cache-sized blocks transposed so that
 * every reduction is a vectorized numpy call; half of its time is that copy. Here each row is
 * read once, in place: its sum and minimum (the validation) and its two largest values (the
 * score) come out of the same loop, without branches on the data. The GIL is released, so the
 * caller's threads score disjoint row ranges at the same time.
 *
 * score(proba, out, start, stop, kind, lo, hi, sum_in_double) -> bool
 *   proba: C-contiguous (N, C) float32 or float64 buffer, C >= 2
 *   out:   writable C-contiguous (N,) float64 buffer
 *   kind:  0 least confidence (1 - p1), 1 margin (p2 - p1), 2 ratio (p2 / max(p1, tiny))
 *   Rows start..stop-1 are scored. Returns False when a row failed the test: a value below 0
 *   (or NaN), or a row sum outside [lo, hi] (sums accumulated in the input's type, or in
 *   double when sum_in_double). Scores of rows after a failure are still written; the caller
 *   then runs the exact check, which raises.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>

enum { LEAST_CONFIDENCE = 0, MARGIN = 1, RATIO = 2 };

/* One loop per (input type, sum type, score): the score is fixed at compile time, so the loop
 * body has no branch at all. */
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
    } else if (kind < LEAST_CONFIDENCE || kind > RATIO) {
        error = "kind must be 0 (least confidence), 1 (margin) or 2 (ratio)";
    }
    if (error != NULL) {
        PyBuffer_Release(&proba);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, error);
        return NULL;
    }
    Py_ssize_t c = proba.shape[1];
    row_scorer scorer = SCORERS[kind][is_f64 ? 2 : (sum_in_double ? 1 : 0)];
    int ok;
    Py_BEGIN_ALLOW_THREADS;
    ok = scorer(proba.buf, c, start, stop, lo, hi, (double *)out.buf);
    Py_END_ALLOW_THREADS;
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
