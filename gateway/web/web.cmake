# The web view's sources for sb::gateway, included by gateway/CMakeLists.txt before
# it defines the library (so the generated file belongs to that directory and CMake
# generates it before sb_gateway compiles). Sets SB_WEB_SRCS.
#
# Templates and static files are embedded into web/embedded_assets.cc in the build
# tree by embed_assets.cmake; adding, removing or editing one re-runs it.
file(GLOB_RECURSE SB_WEB_ASSETS CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_LIST_DIR}/templates/* ${CMAKE_CURRENT_LIST_DIR}/static/*)

set(SB_WEB_EMBEDDED ${CMAKE_CURRENT_BINARY_DIR}/web/embedded_assets.cc)
add_custom_command(
  OUTPUT ${SB_WEB_EMBEDDED}
  COMMAND ${CMAKE_COMMAND} -DSB_WEB_DIR=${CMAKE_CURRENT_LIST_DIR} -DSB_OUTPUT=${SB_WEB_EMBEDDED}
          -P ${CMAKE_CURRENT_LIST_DIR}/embed_assets.cmake
  DEPENDS ${SB_WEB_ASSETS} ${CMAKE_CURRENT_LIST_DIR}/embed_assets.cmake
  COMMENT "Embedding the web view's templates and static files"
  VERBATIM)

set(SB_WEB_SRCS
  web/attainment_chart.cc
  web/pages.cc
  web/page_text.cc
  web/client_page.cc
  web/template.cc
  ${SB_WEB_EMBEDDED})
