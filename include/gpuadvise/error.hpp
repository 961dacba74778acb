#pragma once
/// Project exception types: every user-facing failure is one of these.
#include <stdexcept>
#include <string>

namespace gpuadvise {

/// Base of every error gpuadvise reports to the user (exit code 2 at the CLI).
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A bad option value or workload description (unknown GPU, "13X" as a size, ...).
class InputError : public Error {
public:
  using Error::Error;
};

/// A catalog file that is malformed or fails validation; the message names file, entry and field.
class CatalogError : public Error {
public:
  using Error::Error;
};

/// A broken invariant, a bug in gpuadvise rather than in the input (exit code 3 at the CLI; not an Error).
class InternalError : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

} // namespace gpuadvise
