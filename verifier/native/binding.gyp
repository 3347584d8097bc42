{
  "targets": [
    {
      "target_name": "kakunin_verify",
      "sources": ["kakunin_verify.c", "kakunin_block.c", "kakunin_line.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
