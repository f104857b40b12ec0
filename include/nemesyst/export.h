// Symbol visibility for the public API. The library is compiled with -fvisibility=hidden; only
// declarations marked NEMESYST_EXPORT are visible to integrators linking the shared library.
#ifndef NEMESYST_EXPORT_H_
#define NEMESYST_EXPORT_H_

#if defined(_WIN32)
#define NEMESYST_EXPORT __declspec(dllexport)
#elif defined(__cplusplus)
// The standard attribute form, so it composes with [[nodiscard]] on class declarations.
#define NEMESYST_EXPORT [[gnu::visibility("default")]]
#else
#define NEMESYST_EXPORT __attribute__((visibility("default")))
#endif

#endif  // NEMESYST_EXPORT_H_
