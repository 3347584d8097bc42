{
  "targets": [
    {
      "target_name": "kakunin_verify",
      "sources": ["kakunin_verify.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
