// Placeholder entry point; the crash-test helper fills this in.
return 0;
