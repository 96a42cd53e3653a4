// libpq for tokenrun-pg, reached only through Sources/TokenrunPostgres.
#ifndef TOKENRUN_CPOSTGRES_SHIM_H
#define TOKENRUN_CPOSTGRES_SHIM_H

#include <libpq-fe.h>

#endif
