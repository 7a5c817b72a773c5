#ifndef NOKO_CGIT2_SHIM_H
#define NOKO_CGIT2_SHIM_H
#include <git2.h>
#endif
