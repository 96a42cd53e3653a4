#ifndef TOKENRUN_CSODIUM_SHIM_H
#define TOKENRUN_CSODIUM_SHIM_H
#include <sodium.h>
#endif
