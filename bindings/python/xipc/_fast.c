/* xipc._fast: the four hot calls of queues and streams, without ctypes.
 *
 * ctypes spends more time converting arguments than a queue or pipe spends
 * moving a small message. This module makes the same four C calls the
 * ctypes path makes (xipc_mq_send, xipc_mq_receive, xipc_stream_send_msg,
 * xipc_stream_recv_msg), releasing the GIL around each, and returns the
 * status code for the Python layer to turn into an exception as before.
 *
 * It does not link against libxipc: `bind` is given the addresses of those
 * functions in the copy of the library `xipc._lib` loaded, so handles and
 * error slots always belong to one library. Without this module (no C
 * compiler or Python headers when the package was built, or
 * XIPC_NO_FAST=1), the package uses ctypes for these calls too.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>

typedef int (*mq_send_fn)(void *mq, const void *data, size_t len, unsigned prio);
typedef int (*mq_receive_fn)(void *mq, void *buf, size_t cap, size_t *len, unsigned *prio);
typedef int (*stream_send_fn)(void *stream, const void *data, size_t len);
typedef int (*stream_recv_fn)(void *stream, void *buf, size_t cap, size_t *len);

static mq_send_fn mq_send;
static mq_receive_fn mq_receive;
static stream_send_fn stream_send;
static stream_recv_fn stream_recv;

/* Stream messages up to this size (the Python layer's own buffer size) are
 * received here and copied once into a bytes object; a larger one is
 * refused with XIPC_EMSGSIZE and stays in the stream for the Python layer's
 * path for large messages. */
#define SCRATCH (64 * 1024 + 64)
static _Thread_local unsigned char scratch[SCRATCH];

static int bound(void) {
    if (!mq_send || !mq_receive || !stream_send || !stream_recv) {
        PyErr_SetString(PyExc_RuntimeError, "xipc._fast: bind() was not called");
        return 0;
    }
    return 1;
}

/* A handle: an int address, or None for a closed object, which is passed
 * on as NULL for the library to refuse like any other bad handle. */
static int handle_arg(PyObject *obj, void **h) {
    if (obj == Py_None) {
        *h = NULL;
        return 1;
    }
    *h = PyLong_AsVoidPtr(obj);
    return !(*h == NULL && PyErr_Occurred());
}

/* bind(mq_send, mq_receive, stream_send_msg, stream_recv_msg): the
 * library's function addresses as ints. */
static PyObject *fast_bind(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "bind() takes 4 arguments");
        return NULL;
    }
    void *p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = PyLong_AsVoidPtr(args[i]);
        if (!p[i]) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "bind(): a NULL function address");
            return NULL;
        }
    }
    /* Data pointers to function pointers: what dlsym relies on, too. */
    mq_send = (mq_send_fn)p[0];
    mq_receive = (mq_receive_fn)p[1];
    stream_send = (stream_send_fn)p[2];
    stream_recv = (stream_recv_fn)p[3];
    Py_RETURN_NONE;
}

/* mq_send(handle, data, priority) -> status */
static PyObject *fast_mq_send(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "mq_send() takes 3 arguments");
        return NULL;
    }
    if (!bound())
        return NULL;
    void *h;
    if (!handle_arg(args[0], &h))
        return NULL;
    /* Outside 0..2^32-1: OverflowError, which the Python layer reports as
     * the out-of-range priority it is. */
    unsigned long prio = PyLong_AsUnsignedLong(args[2]);
    if (prio == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    if (prio > 0xFFFFFFFFul) {
        PyErr_SetString(PyExc_OverflowError, "priority does not fit in 32 bits");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = mq_send(h, view.buf, (size_t)view.len, (unsigned)prio);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromLong(rc);
}

/* mq_receive(handle, capacity) -> (bytes, priority) or a status int */
static PyObject *fast_mq_receive(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "mq_receive() takes 2 arguments");
        return NULL;
    }
    if (!bound())
        return NULL;
    void *h;
    if (!handle_arg(args[0], &h))
        return NULL;
    Py_ssize_t cap = PyLong_AsSsize_t(args[1]);
    if (cap < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "capacity must be >= 0");
        return NULL;
    }
    size_t len = 0;
    unsigned prio = 0;
    int rc;
    /* Straight into a bytes object of the queue's message size, shrunk to
     * the message: no copy (a queue's message size is its own limit, so
     * this is never more than the caller's queue allows). */
    PyObject *data = PyBytes_FromStringAndSize(NULL, cap);
    if (!data)
        return NULL;
    char *buf = PyBytes_AS_STRING(data);
    Py_BEGIN_ALLOW_THREADS
    rc = mq_receive(h, buf, (size_t)cap, &len, &prio);
    Py_END_ALLOW_THREADS
    if (rc) {
        Py_DECREF(data);
        return PyLong_FromLong(rc);
    }
    if ((Py_ssize_t)len != cap && _PyBytes_Resize(&data, (Py_ssize_t)len) < 0)
        return NULL;
    PyObject *p = PyLong_FromUnsignedLong(prio);
    if (!p) {
        Py_DECREF(data);
        return NULL;
    }
    PyObject *pair = PyTuple_New(2);
    if (!pair) {
        Py_DECREF(data);
        Py_DECREF(p);
        return NULL;
    }
    PyTuple_SET_ITEM(pair, 0, data);
    PyTuple_SET_ITEM(pair, 1, p);
    return pair;
}

/* stream_send(handle, data) -> status */
static PyObject *fast_stream_send(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "stream_send() takes 2 arguments");
        return NULL;
    }
    if (!bound())
        return NULL;
    void *h;
    if (!handle_arg(args[0], &h))
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = stream_send(h, view.buf, (size_t)view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromLong(rc);
}

/* stream_recv(handle) -> bytes or a status int */
static PyObject *fast_stream_recv(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "stream_recv() takes 1 argument");
        return NULL;
    }
    if (!bound())
        return NULL;
    void *h;
    if (!handle_arg(args[0], &h))
        return NULL;
    size_t len = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = stream_recv(h, scratch, SCRATCH, &len);
    Py_END_ALLOW_THREADS
    if (rc)
        return PyLong_FromLong(rc);
    return PyBytes_FromStringAndSize((const char *)scratch, (Py_ssize_t)len);
}

static PyMethodDef methods[] = {
    {"bind", (PyCFunction)(void (*)(void))fast_bind, METH_FASTCALL,
     "bind(mq_send, mq_receive, stream_send_msg, stream_recv_msg): the library's "
     "function addresses"},
    {"mq_send", (PyCFunction)(void (*)(void))fast_mq_send, METH_FASTCALL,
     "mq_send(handle, data, priority) -> status"},
    {"mq_receive", (PyCFunction)(void (*)(void))fast_mq_receive, METH_FASTCALL,
     "mq_receive(handle, capacity) -> (bytes, priority) or status"},
    {"stream_send", (PyCFunction)(void (*)(void))fast_stream_send, METH_FASTCALL,
     "stream_send(handle, data) -> status"},
    {"stream_recv", (PyCFunction)(void (*)(void))fast_stream_recv, METH_FASTCALL,
     "stream_recv(handle) -> bytes or status"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "xipc._fast",
    "The hot calls of queues and streams without ctypes (internal).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fast(void) { return PyModule_Create(&module); }
