{
  "targets": [
    {
      "target_name": "keyrack_native",
      "sources": ["keyrack_native.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
