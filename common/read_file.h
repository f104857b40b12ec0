// Reading a named input file whole, or opening it for streaming, with the checks every reader
// needs: a directory is refused by name (reading one yields zero bytes or EISDIR, which became a
// 0-byte model version, "appended 0 records" and a silently ignored --config), and every error
// names the path and what the file was meant to be.
#pragma once

#include <string>
#include <string_view>

#include "nemesyst/status.h"

namespace nemesyst {

// The whole file. `what` names its role in messages ("model file", "configuration file").
// NotFound when it does not exist, InvalidArgument when it is not a regular file (a directory,
// a device), IOError when it cannot be read.
Result<std::string> ReadWholeFile(const std::string& path, std::string_view what);

// An open read-only descriptor (the caller closes it), with the same checks.
Result<int> OpenInputFile(const std::string& path, std::string_view what);

}  // namespace nemesyst
