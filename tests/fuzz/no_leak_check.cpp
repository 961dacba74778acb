// Linked into gpuadvise_embedgen in the fuzz build only: the generator runs at build time under
// AddressSanitizer, where a leak report at exit (static state of a dependency) would fail the build.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
