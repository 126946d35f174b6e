#ifndef SPOOL_CFUZZDRIVER_H
#define SPOOL_CFUZZDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer): runs the fuzzing loop with
/// `callback` as the target, taking libFuzzer's usual command-line flags from argc/argv. A fuzz
/// target calls it from its own main, since SwiftPM links every executable with its own `main`.
/// Only referenced in builds with -D FUZZING; declared here because Glibc does not know it.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
