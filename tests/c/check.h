/* Shared by the C tests: stop the test at the first failed call or check,
 * saying where and what xipc reported. */
#ifndef XIPC_TEST_CHECK_H
#define XIPC_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include "xipc.h"

/* `expr` must return XIPC_OK. */
#define CHECK(expr)                                                                   \
    do {                                                                              \
        int rc_ = (expr);                                                             \
        if (rc_ != XIPC_OK) {                                                         \
            fprintf(stderr, "%s:%d: %s = %d (%s)\n", __FILE__, __LINE__, #expr, rc_,  \
                    xipc_last_error());                                               \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

/* `cond` must hold. */
#define EXPECT(cond)                                                                  \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: expected %s (last error: %s)\n", __FILE__,        \
                    __LINE__, #cond, xipc_last_error());                              \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

#endif
