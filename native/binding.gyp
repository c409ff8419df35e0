{
  "targets": [
    {
      "target_name": "keyrack_native",
      "sources": ["keyrack_native.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "keyrack-fast",
      "type": "executable",
      "sources": ["keyrack_fast.c", "fast_client.c", "fast_exec.c", "fast_views.c", "json.c", "export_check.c", "mask.c", "program.c", "autostart.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
