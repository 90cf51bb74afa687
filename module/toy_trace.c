// SPDX-License-Identifier: GPL-2.0
/*
 * af_toy tracepoint instances; the events are declared in toy_trace.h and
 * fired from the files that do the work.
 */
#define CREATE_TRACE_POINTS
#include "toy_trace.h"
