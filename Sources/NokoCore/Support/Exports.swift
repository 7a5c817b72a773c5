// The platform layer's one public type, `NokoSystemError` (what every failed system call
// throws), is part of noko's API: whoever imports NokoCore (or Noko) can catch it by name.
@_exported import NokoPlatform
