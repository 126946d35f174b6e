// The fault-injecting FileSystem moved to SpoolTestSupport so the jobs tests use it too; re-exported
// here so this target's tests name it as before.
@_exported import SpoolTestSupport
