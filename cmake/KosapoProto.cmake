# kosapo_proto_library(<target> PROTOS <files relative to ROOT> [ROOT <dir>]
#                      [DEPS <targets>])   ROOT defaults to protos/.
#
# Generates C++ message, gRPC service and gMock stub code for one proto package
# into the build tree and wraps it in a static library. Each proto package gets
# its own library, so a change in a service never rebuilds another's protos.
# Debian's protobuf has no CMake config and CMake 3.25's protobuf_generate
# hard-codes include paths (see PLATFORM.md), hence the explicit protoc call.
set(KOSAPO_PROTO_ROOT "${PROJECT_SOURCE_DIR}/protos")
set(KOSAPO_PROTO_GEN_DIR "${PROJECT_BINARY_DIR}/gen")

function(kosapo_proto_library target)
  cmake_parse_arguments(ARG "" "ROOT" "PROTOS;DEPS" ${ARGN})
  if(NOT ARG_ROOT)
    set(ARG_ROOT "${KOSAPO_PROTO_ROOT}")
  endif()
  set(sources)
  foreach(proto IN LISTS ARG_PROTOS)
    get_filename_component(dir "${proto}" DIRECTORY)
    get_filename_component(stem "${proto}" NAME_WE)
    set(out "${KOSAPO_PROTO_GEN_DIR}/${dir}/${stem}")
    set(outputs
      "${out}.pb.cc" "${out}.pb.h"
      "${out}.grpc.pb.cc" "${out}.grpc.pb.h" "${out}_mock.grpc.pb.h")
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${CMAKE_COMMAND} -E make_directory "${KOSAPO_PROTO_GEN_DIR}"
      COMMAND protobuf::protoc
        "--proto_path=${ARG_ROOT}"
        "--proto_path=${Protobuf_INCLUDE_DIR}"
        "--cpp_out=${KOSAPO_PROTO_GEN_DIR}"
        "--grpc_out=generate_mock_code=true:${KOSAPO_PROTO_GEN_DIR}"
        "--plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>"
        "${ARG_ROOT}/${proto}"
      DEPENDS "${ARG_ROOT}/${proto}" protobuf::protoc gRPC::grpc_cpp_plugin
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND sources "${out}.pb.cc" "${out}.grpc.pb.cc")
  endforeach()
  add_library(${target} STATIC ${sources})
  # Generated code is not ours to warn about.
  target_compile_options(${target} PRIVATE -w)
  target_include_directories(${target} SYSTEM PUBLIC "${KOSAPO_PROTO_GEN_DIR}")
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf gRPC::grpc++ ${ARG_DEPS})
endfunction()
