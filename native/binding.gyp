{
  "targets": [
    {
      "target_name": "qttdm_libtorch",
      "sources": ["src/addon.cc"],
      "include_dirs": ["<!@(node libtorch.mjs include)"],
      "libraries": ["<!@(node libtorch.mjs link)"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-fexceptions", "-frtti", "-Wno-unused-parameter", "-Wno-psabi"]
    }
  ]
}
