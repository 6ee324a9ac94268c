/* xipc._fast: the hot queue, stream and RPC client calls, without ctypes.
 *
 * ctypes, and a Python method around it, cost more than a queue or pipe
 * spends moving a small message, and about as much as the RPC library
 * spends on a small call. This module gives three base classes whose
 * methods are those hot calls in C:
 *
 *   QueueBase   send(data, priority=0, timeout=None), receive(timeout=None)
 *   StreamBase  send(data), receive()
 *   ClientBase  call(procedure, args=b"")
 *
 * and the RPC server's handler in C (`handler_address()`): it runs a
 * Python handler with its arguments as bytes, without ctypes' callback
 * machinery (see `serve` below).
 *
 * xipc.MessageQueue, xipc.Stream and xipc.rpc.Client derive from them when
 * the module is built. The methods make the same library calls the ctypes
 * path makes (xipc_mq_send, xipc_mq_receive, xipc_stream_send,
 * xipc_stream_receive, xipc_rpc_client_call), with the GIL released, and
 * handle only the common case: everything else goes to the subclass's
 * Python methods, so the rules live in one place:
 *   - a timeout, a priority outside 32 bits or a closed queue: the Python
 *     method (`_send_slow`, `_receive_slow`);
 *   - an error status: `self._fail(status)`, which raises;
 *   - a stream message larger than the buffer: `self._recv_refused()`;
 *   - a signal (XIPC_EINTR): its Python handlers run (PyErr_CheckSignals),
 *     and the call resumes unless a handler raised, as PEP 475 asks;
 *   - an RPC call with keywords or arguments that are not bytes-like: the
 *     Python method (`_call_slow`); a failed call: `self._fail(status)`,
 *     which raises with the RPC error's details.
 *
 * The module does not link against libxipc: `bind` is given the addresses
 * of the functions in the copy of the library `xipc._lib` loaded, so
 * handles and error messages always belong to one library. Their types
 * come from xipc.h (`__typeof__` of a declaration refers to no symbol), so
 * a change there that this file does not follow fails to compile.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stddef.h>
#include <string.h>

#include "xipc.h"

static __typeof__(xipc_mq_send) *mq_send;
static __typeof__(xipc_mq_receive) *mq_receive;
static __typeof__(xipc_stream_send) *stream_send;
static __typeof__(xipc_stream_receive) *stream_recv;
static __typeof__(xipc_rpc_client_call) *client_call;
static __typeof__(xipc_bytes_free) *bytes_free;
static __typeof__(xipc_encoder_put_raw) *put_raw;
/* The status codes, from the header too. */
static const int code_eintr = XIPC_EINTR, code_emsgsize = XIPC_EMSGSIZE;

/* Messages are received here and copied once into a bytes object of their
 * size: a stream message of up to this size (the ctypes path's buffer size;
 * a larger one is refused with XIPC_EMSGSIZE and stays in the stream for
 * `_recv_refused`), and any message of a queue whose message size is at
 * most this; except after a message larger than COPY_AT_MOST, when the
 * next is received straight into a bytes object and shrunk to it. */
#define SCRATCH (64 * 1024 + 64)
static _Thread_local unsigned char scratch[SCRATCH];

/* A bytes object of the n bytes at src, copied in pieces of at most PIECE
 * bytes where they may start at any offset (an RPC call's arguments and
 * results follow its header): glibc's memcpy moves larger blocks with
 * `rep movsb`, 15-30x slower on AMD Zen 3 and Zen 4 when the destination
 * is 1-15 bytes past the source modulo 64 (the library does the same,
 * src/copy.rs). */
#define PIECE 1984
static PyObject *bytes_of(const void *src, size_t n) {
    if (n <= PIECE)
        return PyBytes_FromStringAndSize((const char *)src, (Py_ssize_t)n);
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    if (!b)
        return NULL;
    char *dst = PyBytes_AS_STRING(b);
    for (size_t at = 0; at < n; at += PIECE)
        memcpy(dst + at, (const char *)src + at, n - at < PIECE ? n - at : PIECE);
    return b;
}

static int bound(void) {
    if (!mq_send || !mq_receive || !stream_send || !stream_recv || !client_call || !bytes_free ||
        !put_raw) {
        PyErr_SetString(PyExc_RuntimeError, "xipc._fast: bind() was not called");
        return 0;
    }
    return 1;
}

/* A handle attribute: an int address, or None (passed on as NULL, for the
 * library to refuse like any bad handle). 0 with an exception on a bad type. */
static int handle_of(PyObject *obj, void **h) {
    if (obj == NULL || obj == Py_None) {
        *h = NULL;
        return 1;
    }
    *h = PyLong_AsVoidPtr(obj);
    return !(*h == NULL && PyErr_Occurred());
}

/* Calls self.<name>(*args, **kw) with the arguments as they came. */
static PyObject *delegate(PyObject *self, const char *name, PyObject *const *args,
                          Py_ssize_t nargs, PyObject *kwnames) {
    PyObject *method = PyObject_GetAttrString(self, name);
    if (!method)
        return NULL;
    PyObject *result = PyObject_Vectorcall(method, args, (size_t)nargs, kwnames);
    Py_DECREF(method);
    return result;
}

/* self._fail(status): raises the status's exception. */
static PyObject *fail(PyObject *self, int status) {
    PyObject *code = PyLong_FromLong(status);
    if (!code)
        return NULL;
    PyObject *result = PyObject_CallMethod(self, "_fail", "O", code);
    Py_DECREF(code);
    if (result) { /* _fail always raises; be safe if it did not */
        Py_DECREF(result);
        PyErr_Format(PyExc_RuntimeError, "xipc: status %d did not raise", status);
    }
    return NULL;
}

/* ---- QueueBase ---- */

typedef struct {
    PyObject_HEAD
    PyObject *handle;    /* int address or None */
    Py_ssize_t capacity; /* the queue's message size */
    Py_ssize_t last_len; /* the length of the last message received */
} QueueBase;

/* A queue or stream whose last message was longer than this receives the
 * next one straight into a bytes object (of the queue's message size, or
 * of the scratch buffer's for a stream), shrunk to the message, rather than
 * into the scratch buffer and copied. Messages on a queue or stream tend to
 * be alike: a copy costs more than the shrink for large ones (8 KiB one way
 * on a queue, pinned: 0.89x posix_ipc's throughput through the scratch,
 * 0.97x straight in; 64 KiB over a pipe 7% more MB/s), less for small ones
 * (64-byte round trip on a queue: 0.98x posix_ipc through the scratch,
 * 1.00x straight in). */
#define COPY_AT_MOST 2048

static void queue_dealloc(QueueBase *self) {
    Py_CLEAR(self->handle);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* send(data, priority=0, timeout=None) */
static PyObject *queue_send(QueueBase *self, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames) {
    PyObject *data = NULL, *priority = NULL, *timeout = NULL;
    if (nargs >= 1)
        data = args[0];
    if (nargs >= 2)
        priority = args[1];
    if (nargs >= 3)
        timeout = args[2];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    int other = nargs > 3;
    for (Py_ssize_t i = 0; i < nkw && !other; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        if (!priority && PyUnicode_CompareWithASCIIString(key, "priority") == 0)
            priority = args[nargs + i];
        else if (!timeout && PyUnicode_CompareWithASCIIString(key, "timeout") == 0)
            timeout = args[nargs + i];
        else if (!data && PyUnicode_CompareWithASCIIString(key, "data") == 0)
            data = args[nargs + i];
        else
            other = 1;
    }
    if (!data)
        other = 1;
    unsigned long prio = 0;
    if (!other && priority) {
        prio = PyLong_Check(priority) ? PyLong_AsUnsignedLong(priority) : (unsigned long)-1;
        if (PyErr_Occurred()) {
            PyErr_Clear();
            other = 1;
        } else if (prio > 0xFFFFFFFFul) {
            other = 1;
        }
    }
    void *h;
    if (other || (timeout && timeout != Py_None) || self->handle == Py_None || !bound())
        return delegate((PyObject *)self, "_send_slow", args, nargs, kwnames);
    if (!handle_of(self->handle, &h))
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int rc;
    for (;;) {
        Py_BEGIN_ALLOW_THREADS
        rc = mq_send(h, view.buf, (size_t)view.len, (unsigned)prio);
        Py_END_ALLOW_THREADS
        if (rc != code_eintr)
            break;
        if (PyErr_CheckSignals() < 0) {
            PyBuffer_Release(&view);
            return NULL;
        }
    }
    PyBuffer_Release(&view);
    if (rc)
        return fail((PyObject *)self, rc);
    Py_RETURN_NONE;
}

/* Not a library status: a signal handler raised (the exception is set). */
#define INTERRUPTED 1

/* xipc_mq_receive with the GIL released, resumed after the handlers of a
 * signal that interrupted it have run; INTERRUPTED if one of them raised. */
static int receive_waiting(void *h, void *buf, size_t cap, size_t *len, unsigned *prio) {
    for (;;) {
        int rc;
        Py_BEGIN_ALLOW_THREADS
        rc = mq_receive(h, buf, cap, len, prio);
        Py_END_ALLOW_THREADS
        if (rc != code_eintr)
            return rc;
        if (PyErr_CheckSignals() < 0)
            return INTERRUPTED;
    }
}

/* receive(timeout=None) -> (bytes, priority) */
static PyObject *queue_receive(QueueBase *self, PyObject *const *args, Py_ssize_t nargs,
                               PyObject *kwnames) {
    PyObject *timeout = nargs >= 1 ? args[0] : NULL;
    int other = nargs > 1;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw && !other; i++) {
        if (!timeout && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, i), "timeout") == 0)
            timeout = args[nargs + i];
        else
            other = 1;
    }
    void *h;
    if (other || (timeout && timeout != Py_None) || self->handle == Py_None ||
        self->capacity < 0 || !bound())
        return delegate((PyObject *)self, "_receive_slow", args, nargs, kwnames);
    if (!handle_of(self->handle, &h))
        return NULL;
    size_t len = 0;
    unsigned prio = 0;
    int rc;
    PyObject *data;
    if (self->capacity <= SCRATCH && self->last_len <= COPY_AT_MOST) {
        /* Into this thread's scratch buffer, then one copy of the message
         * into a bytes object of its size. */
        rc = receive_waiting(h, scratch, (size_t)self->capacity, &len, &prio);
        if (rc)
            return rc == INTERRUPTED ? NULL : fail((PyObject *)self, rc);
        data = PyBytes_FromStringAndSize((const char *)scratch, (Py_ssize_t)len);
        if (!data)
            return NULL;
    } else {
        /* Straight into a bytes object of the queue's message size, then
         * shrunk to the message. */
        data = PyBytes_FromStringAndSize(NULL, self->capacity);
        if (!data)
            return NULL;
        rc = receive_waiting(h, PyBytes_AS_STRING(data), (size_t)self->capacity, &len, &prio);
        if (rc) {
            Py_DECREF(data);
            return rc == INTERRUPTED ? NULL : fail((PyObject *)self, rc);
        }
        if ((Py_ssize_t)len != self->capacity && _PyBytes_Resize(&data, (Py_ssize_t)len) < 0)
            return NULL;
    }
    self->last_len = (Py_ssize_t)len;
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

static PyMethodDef queue_methods[] = {
    {"send", (PyCFunction)(void (*)(void))queue_send, METH_FASTCALL | METH_KEYWORDS,
     "send($self, /, data, priority=0, timeout=None)\n--\n\n"
     "Sends ``data`` (bytes-like) with ``priority`` (0 to 32767 on Linux;\n"
     "higher is received first). Waits while the queue is full, unless\n"
     "nonblocking (``BlockingIOError``) or past ``timeout`` seconds\n"
     "(``TimeoutError``). More than ``max_message_size`` bytes is\n"
     ":class:`xipc.errors.MessageTooLarge`."},
    {"receive", (PyCFunction)(void (*)(void))queue_receive, METH_FASTCALL | METH_KEYWORDS,
     "receive($self, /, timeout=None)\n--\n\n"
     "Returns ``(message, priority)``: the oldest message of the highest\n"
     "priority. Waits while the queue is empty, unless nonblocking\n"
     "(``BlockingIOError``) or past ``timeout`` seconds (``TimeoutError``)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef queue_members[] = {
    {"_handle", T_OBJECT, offsetof(QueueBase, handle), 0, "the library's handle (None: closed)"},
    {"_capacity", T_PYSSIZET, offsetof(QueueBase, capacity), 0, "the queue's message size"},
    {NULL, 0, 0, 0, NULL},
};

static PyObject *queue_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    (void)args;
    (void)kw;
    QueueBase *self = (QueueBase *)type->tp_alloc(type, 0);
    if (self) {
        Py_INCREF(Py_None), self->handle = Py_None;
        self->capacity = -1;
        self->last_len = 0;
    }
    return (PyObject *)self;
}

static PyTypeObject QueueBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "xipc._fast.QueueBase",
    .tp_basicsize = sizeof(QueueBase),
    .tp_dealloc = (destructor)queue_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C half of xipc.MessageQueue: send and receive without ctypes.",
    .tp_methods = queue_methods,
    .tp_members = queue_members,
    .tp_new = queue_new,
};

/* ---- StreamBase ---- */

/* A handle holder: StreamBase and ClientBase. */
typedef struct {
    PyObject_HEAD
    PyObject *handle;    /* int address or None */
    Py_ssize_t last_len; /* a stream's last message's length (COPY_AT_MOST) */
} HandleBase;

typedef HandleBase StreamBase;

static void handle_dealloc(HandleBase *self) {
    Py_CLEAR(self->handle);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *handle_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    (void)args;
    (void)kw;
    HandleBase *self = (HandleBase *)type->tp_alloc(type, 0);
    if (self)
        Py_INCREF(Py_None), self->handle = Py_None;
    return (PyObject *)self;
}

static PyObject *stream_send_msg(StreamBase *self, PyObject *data) {
    void *h;
    if (!bound() || !handle_of(self->handle, &h))
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int rc;
    for (;;) {
        Py_BEGIN_ALLOW_THREADS
        rc = stream_send(h, view.buf, (size_t)view.len);
        Py_END_ALLOW_THREADS
        /* Interrupted before anything was written: run the handlers, resume. */
        if (rc != code_eintr)
            break;
        if (PyErr_CheckSignals() < 0) {
            PyBuffer_Release(&view);
            return NULL;
        }
    }
    PyBuffer_Release(&view);
    if (rc)
        return fail((PyObject *)self, rc);
    Py_RETURN_NONE;
}

static PyObject *stream_recv_msg(StreamBase *self, PyObject *unused) {
    (void)unused;
    void *h;
    if (!bound() || !handle_of(self->handle, &h))
        return NULL;
    /* As a queue's (COPY_AT_MOST): after a large message, straight into a
     * bytes object as large as the scratch buffer, shrunk to the message. */
    PyObject *direct = NULL;
    if (self->last_len > COPY_AT_MOST && !(direct = PyBytes_FromStringAndSize(NULL, SCRATCH)))
        return NULL;
    uint8_t *buf = direct ? (uint8_t *)PyBytes_AS_STRING(direct) : scratch;
    size_t len = 0;
    int rc;
    for (;;) {
        Py_BEGIN_ALLOW_THREADS
        rc = stream_recv(h, buf, SCRATCH, &len);
        Py_END_ALLOW_THREADS
        /* Interrupted: what has arrived is kept; run the handlers, resume. */
        if (rc != code_eintr)
            break;
        if (PyErr_CheckSignals() < 0) {
            Py_XDECREF(direct);
            return NULL;
        }
    }
    if (rc == 0) {
        self->last_len = (Py_ssize_t)len;
        if (!direct)
            return PyBytes_FromStringAndSize((const char *)scratch, (Py_ssize_t)len);
        if (_PyBytes_Resize(&direct, (Py_ssize_t)len) < 0)
            return NULL;
        return direct;
    }
    Py_XDECREF(direct);
    if (rc == code_emsgsize)
        return PyObject_CallMethod((PyObject *)self, "_recv_refused", NULL);
    return fail((PyObject *)self, rc);
}

static PyMethodDef stream_methods[] = {
    {"send", (PyCFunction)stream_send_msg, METH_O,
     "send($self, data, /)\n--\n\nSends ``data`` (bytes-like) as one framed message."},
    {"receive", (PyCFunction)stream_recv_msg, METH_NOARGS,
     "receive($self, /)\n--\n\nReceives the next framed message. Raises\n"
     ":class:`xipc.errors.ConnectionClosed` at the end of the stream."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef stream_members[] = {
    {"_h", T_OBJECT, offsetof(StreamBase, handle), 0, "the library's handle (None: closed)"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject StreamBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "xipc._fast.StreamBase",
    .tp_basicsize = sizeof(StreamBase),
    .tp_dealloc = (destructor)handle_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C half of xipc.Stream: framed send and receive without ctypes.",
    .tp_methods = stream_methods,
    .tp_members = stream_members,
    .tp_new = handle_new,
};

/* ---- ClientBase ---- */

typedef HandleBase ClientBase;

/* call(procedure, args=b"") */
static PyObject *client_call_rpc(ClientBase *self, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames) {
    if (kwnames || nargs < 1 || nargs > 2)
        return delegate((PyObject *)self, "_call_slow", args, nargs, kwnames);
    void *h;
    if (!bound() || !handle_of(self->handle, &h))
        return NULL;
    unsigned long procedure = PyLong_AsUnsignedLong(args[0]);
    if (PyErr_Occurred() || procedure > 0xFFFFFFFFul) {
        PyErr_Clear();
        return delegate((PyObject *)self, "_call_slow", args, nargs, kwnames);
    }
    Py_buffer view = {0};
    if (nargs == 2 && PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        return delegate((PyObject *)self, "_call_slow", args, nargs, kwnames);
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = client_call(h, (uint32_t)procedure, view.buf, (size_t)view.len, &out, &out_len);
    Py_END_ALLOW_THREADS
    if (nargs == 2)
        PyBuffer_Release(&view);
    if (rc)
        return fail((PyObject *)self, rc);
    PyObject *result = bytes_of(out, out_len);
    bytes_free(out, out_len);
    return result;
}

static PyMethodDef client_methods[] = {
    {"call", (PyCFunction)(void (*)(void))client_call_rpc, METH_FASTCALL | METH_KEYWORDS,
     "call($self, procedure, args=b'')\n--\n\nCalls ``procedure`` with XDR ``args``; returns the XDR results."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef client_members[] = {
    {"_ch", T_OBJECT, offsetof(ClientBase, handle), 0, "the library's handle (None: closed)"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject ClientBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "xipc._fast.ClientBase",
    .tp_basicsize = sizeof(ClientBase),
    .tp_dealloc = (destructor)handle_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C half of xipc.rpc.Client: calls without ctypes.",
    .tp_methods = client_methods,
    .tp_members = client_members,
    .tp_new = handle_new,
};

/* ---- the RPC server's handler ---- */

/* An xipc_rpc_handler whose `user` is a Python callable
 * serve(args: bytes, call: int) -> bytes | int: the results, or the status
 * to answer with (xipc.rpc.Server.register's `serve`, which maps the
 * handler's exceptions to statuses and never raises). Runs on the server's
 * threads, so it takes the GIL for the call. */
static int serve(void *user, const xipc_rpc_call *call, const uint8_t *args, size_t len,
                 xipc_encoder *result) {
    int rc = XIPC_ESYSTEM_ERR;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *bytes = bytes_of(args, len);
    PyObject *address = PyLong_FromVoidPtr((void *)call);
    PyObject *out = NULL;
    if (bytes && address) {
        PyObject *argv[2] = {bytes, address};
        out = PyObject_Vectorcall((PyObject *)user, argv, 2, NULL);
    }
    if (out && PyBytes_Check(out)) {
        rc = put_raw(result, (const uint8_t *)PyBytes_AS_STRING(out), (size_t)PyBytes_GET_SIZE(out));
        if (rc)
            rc = XIPC_ESYSTEM_ERR;
    } else if (out && PyLong_Check(out)) {
        rc = (int)PyLong_AsLong(out);
    }
    if (PyErr_Occurred()) /* only a bug of `serve` or no memory: say so, answer SYSTEM_ERR */
        PyErr_Print(), rc = XIPC_ESYSTEM_ERR;
    Py_XDECREF(out);
    Py_XDECREF(address);
    Py_XDECREF(bytes);
    PyGILState_Release(gil);
    return rc;
}

/* handler_address(): the address of `serve`, to register as a handler. */
static PyObject *fast_handler_address(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    /* A function pointer as an integer: what bind's inverse relies on. */
    return PyLong_FromVoidPtr((void *)(uintptr_t)serve);
}

/* ---- module ---- */

/* bind(mq_send, mq_receive, stream_send_msg, stream_recv_msg,
 * rpc_client_call, bytes_free, encoder_put_raw): the addresses of the
 * library's functions. */
static PyObject *fast_bind(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "bind() takes 7 arguments");
        return NULL;
    }
    void *p[7];
    for (int i = 0; i < 7; i++) {
        p[i] = PyLong_AsVoidPtr(args[i]);
        if (!p[i]) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "bind(): a NULL function address");
            return NULL;
        }
    }
    /* Data pointers to function pointers: what dlsym relies on, too. */
    mq_send = (__typeof__(mq_send))p[0];
    mq_receive = (__typeof__(mq_receive))p[1];
    stream_send = (__typeof__(stream_send))p[2];
    stream_recv = (__typeof__(stream_recv))p[3];
    client_call = (__typeof__(client_call))p[4];
    bytes_free = (__typeof__(bytes_free))p[5];
    put_raw = (__typeof__(put_raw))p[6];
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"bind", (PyCFunction)(void (*)(void))fast_bind, METH_FASTCALL,
     "bind(mq_send, mq_receive, stream_send_msg, stream_recv_msg, rpc_client_call, bytes_free, "
     "encoder_put_raw)"},
    {"handler_address", fast_handler_address, METH_NOARGS,
     "handler_address(): the address of the C handler that runs a Python serve(args, call)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "xipc._fast",
    "The hot queue, stream and RPC client calls without ctypes (internal to xipc).", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fast(void) {
    if (PyType_Ready(&QueueBaseType) < 0 || PyType_Ready(&StreamBaseType) < 0 ||
        PyType_Ready(&ClientBaseType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Py_INCREF(&QueueBaseType);
    if (PyModule_AddObject(m, "QueueBase", (PyObject *)&QueueBaseType) < 0) {
        Py_DECREF(&QueueBaseType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&StreamBaseType);
    if (PyModule_AddObject(m, "StreamBase", (PyObject *)&StreamBaseType) < 0) {
        Py_DECREF(&StreamBaseType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&ClientBaseType);
    if (PyModule_AddObject(m, "ClientBase", (PyObject *)&ClientBaseType) < 0) {
        Py_DECREF(&ClientBaseType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
