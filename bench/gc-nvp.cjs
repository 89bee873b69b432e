// Preloaded into a measured Node process (NODE_OPTIONS=--require) by `bench/ab.ts --gc`: V8 prints
// one line per garbage collection with its phases (`--trace-gc-nvp`) to the process's stdout.
require('node:v8').setFlagsFromString('--trace-gc-nvp');
