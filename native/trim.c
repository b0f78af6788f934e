// berth-trim.node: two functions for berthd's idle time. trim() calls glibc's malloc_trim(0) and says whether it
// gave memory back. glibc returns a freed chunk to the kernel only when it lies at the top of an arena
// (M_TRIM_THRESHOLD); free chunks between live ones stay resident until malloc_trim(0) madvises them away.
// Measured (issue 13): after a 2 MB `docker import`, berthd's main arena held 4.5 MB with 2 MB in use and
// the idle daemon kept the rest; malloc_trim(0) (then called through gdb) gave 3.4 MB back. No process
// but berthd can do this for it, and Node has no call for it: hence this Node-API addon of one function.
// The few Node-API declarations are written out here (Node-API's ABI is stable across Node versions), so
// building it needs no Node headers; node itself provides the symbols when it loads the addon.
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status; // napi_ok is 0
typedef napi_value (*napi_callback)(napi_env, napi_callback_info);

extern napi_status napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
extern napi_status napi_set_named_property(napi_env, napi_value, const char *, napi_value);
extern napi_status napi_get_boolean(napi_env, bool, napi_value *);

static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r = NULL;
  napi_get_boolean(env, malloc_trim(0) == 1, &r);
  return r;
}

// reduceMemory() tells V8 of critical memory pressure (v8::Isolate::MemoryPressureNotification, public API) twice:
// each is a full collection in V8's memory-reducing mode, the mode of its own memory reducer, which runs
// only ~8 s after a full GC. It compacts the old space and uncommits the young generation's idle
// semi-space; the second gives back the semi-space the first left in use. JavaScript has no call for it
// (gc() from --expose-gc is a plain full GC). Not LowMemoryNotification: that one also clears V8's
// compilation cache (compiled RegExps among it), which the next request would pay for again.
// The two C++ functions are named by their Itanium ABI symbols, which node exports for addons; weak, so a
// node without them loads this addon all the same and reduceMemory() says false. A non-virtual member
// function takes `this` as its first argument; kCritical is 2 in enum class v8::MemoryPressureLevel.
extern void *_ZN2v87Isolate10GetCurrentEv(void) __attribute__((weak)); // v8::Isolate::GetCurrent()
extern void _ZN2v87Isolate26MemoryPressureNotificationENS_19MemoryPressureLevelE(void *, int) __attribute__((weak));
#define memory_pressure _ZN2v87Isolate26MemoryPressureNotificationENS_19MemoryPressureLevelE
enum { PRESSURE_CRITICAL = 2 };

static napi_value reduce_memory(napi_env env, napi_callback_info info) {
  (void)info;
  void *isolate = _ZN2v87Isolate10GetCurrentEv && memory_pressure ? _ZN2v87Isolate10GetCurrentEv() : NULL;
  if (isolate) {
    memory_pressure(isolate, PRESSURE_CRITICAL);
    memory_pressure(isolate, PRESSURE_CRITICAL);
  }
  napi_value r = NULL;
  napi_get_boolean(env, isolate != NULL, &r);
  return r;
}

static bool export_fn(napi_env env, napi_value exports, const char *name, size_t len, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, len, cb, NULL, &fn) == 0 && napi_set_named_property(env, exports, name, fn) == 0;
}

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  if (!export_fn(env, exports, "trim", 4, trim) || !export_fn(env, exports, "reduceMemory", 12, reduce_memory)) return NULL;
  return exports;
}
