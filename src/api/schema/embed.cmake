# Turns the schema data of this folder into one C++ source, run as
#   cmake -DDIR=<this folder> -DOUT=<generated .cc> -P embed.cmake
# Each file becomes adjacent raw string literals of at most 60000 bytes, so no single literal
# nears the 64 KiB that some compilers allow; g++ joins them into one contiguous array. The
# generator escapes non-ASCII characters, so a chunk boundary never splits a UTF-8 sequence.
# The index hash is SHA-512 of the exact bytes served, in upper-case hex like kube-openapi.

set(chunk_size 60000)
set(delim "nkschema")

function(append_literal out var_name file)
  file(READ "${file}" content)
  string(FIND "${content}" ")${delim}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw string delimiter )${delim}\"")
  endif()
  string(LENGTH "${content}" size)
  file(APPEND "${out}" "const char ${var_name}[] =\n")
  set(pos 0)
  while(pos LESS size)
    string(SUBSTRING "${content}" ${pos} ${chunk_size} chunk)
    file(APPEND "${out}" "R\"${delim}(${chunk})${delim}\"\n")
    math(EXPR pos "${pos} + ${chunk_size}")
  endwhile()
  file(APPEND "${out}" ";\n")
endfunction()

set(tmp "${OUT}.tmp")
file(WRITE "${tmp}" "// Generated from src/api/schema by embed.cmake; do not edit.\n"
                    "#include \"api/schema/embedded.h\"\n\n"
                    "namespace nanokube::api::schema_data {\nnamespace {\n\n")
file(GLOB docs RELATIVE "${DIR}" "${DIR}/*.json")
list(SORT docs)
set(entries "")
set(i 0)
foreach(doc IN LISTS docs)
  append_literal("${tmp}" "kDoc${i}" "${DIR}/${doc}")
  string(REGEX REPLACE "\\.json$" "" gv "${doc}")
  string(REPLACE "__" "/" gv "${gv}")
  file(SHA512 "${DIR}/${doc}" hash)
  string(TOUPPER "${hash}" hash)
  string(APPEND entries "    {\"${gv}\", {kDoc${i}, sizeof(kDoc${i}) - 1}, \"${hash}\"},\n")
  math(EXPR i "${i} + 1")
endforeach()
append_literal("${tmp}" "kFields" "${DIR}/fields.txt")
file(APPEND "${tmp}" "\nconst EmbeddedDocument kDocuments[] = {\n${entries}};\n\n}  // namespace\n\n"
     "std::span<const EmbeddedDocument> documents() { return kDocuments; }\n"
     "std::string_view fieldTable() { return {kFields, sizeof(kFields) - 1}; }\n\n"
     "}  // namespace nanokube::api::schema_data\n")
file(RENAME "${tmp}" "${OUT}")
