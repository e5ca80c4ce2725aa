// The version of ktrace, one owner for every package: the CLI's --version and the OTel instrumentation scope.
// A test checks that each package.json says the same.
export const ktraceVersion = '0.1.0';
