# Install layout and the Debian package (CPack DEB).
#
#   bin/                         conformd, conformctl, conform-signer
#   share/conform/migrations/    NNNN_name.sql
#   share/conform/schemes/       the shipped schemes and scheme.schema.json
#   share/doc/conform/           README, docs/, copyright, changelog
#   /etc/conform/conform.conf    the configuration file (a conffile)
#   /lib/systemd/system/         conformd, conform-signer, conform-janitor units
#
# The programs find share/conform from their own path (core/config.c,
# config_shipped_path): <exe dir>/../share/conform installed, and
# <exe dir>/share/conform in the build tree, which is made here at configure
# time (symlinks to the sources, plus the "build-tree" marker that keeps a
# build's programs off /etc/conform/conform.conf). No source path is
# compiled in.
#
# The units and /etc/conform are system files with absolute paths (the units
# run /usr/bin/conformd): they are for the package, built with prefix /usr.
# An install under another prefix leaves them out with
# -DCONFORM_INSTALL_SYSTEM_FILES=OFF.

# What the package ships is built as Debian builds its packages (lintian's
# hardening checks): fortified libc calls (they need optimisation, hence not
# in Debug or under the sanitizers) and a read-only GOT bound at start.
if(NOT CONFORM_SANITIZE AND NOT CONFORM_FUZZ)
  foreach(_t conform conformd_lib conformd conformctl conform-signer)
    target_compile_definitions(${_t} PRIVATE $<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
  endforeach()
  foreach(_t conformd conformctl conform-signer)
    target_link_options(${_t} PRIVATE LINKER:-z,relro LINKER:-z,now)
  endforeach()
endif()

option(CONFORM_INSTALL_SYSTEM_FILES
       "Install /etc/conform/conform.conf and the systemd units (for prefix /usr)" ON)

set(_share ${PROJECT_BINARY_DIR}/share/conform)
file(MAKE_DIRECTORY ${_share})
file(CREATE_LINK ${PROJECT_SOURCE_DIR}/migrations ${_share}/migrations SYMBOLIC)
file(CREATE_LINK ${PROJECT_SOURCE_DIR}/schemes ${_share}/schemes SYMBOLIC)
file(WRITE ${_share}/build-tree
     "A build tree's share/conform: its programs read no default configuration file.\n")

install(DIRECTORY migrations/ DESTINATION share/conform/migrations
        FILES_MATCHING PATTERN "[0-9][0-9][0-9][0-9]_*.sql")
install(FILES
          schemes/dcms-cop-2018.json
          schemes/etsi-en-303-645-2.1.1.json
          schemes/iotsf-cf-2.0.json
          schemes/uk-psti-2023.json
          schemes/scheme.schema.json
        DESTINATION share/conform/schemes)
install(FILES
          README.md
          docs/architecture.md
          docs/certificates.md
          docs/complaints.md
          docs/operations.md
          docs/scheme-format.md
          docs/workflow.md
          docs/openapi.json
          deploy/debian/copyright
        DESTINATION share/doc/conform)
install(FILES docs/credentials/certificate-schema-v1.json docs/credentials/conformity-v1.jsonld
        DESTINATION share/doc/conform/credentials)
# The Debian changelog, compressed as policy wants it (-n: no time stamp,
# so that the package is reproducible).
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/changelog.Debian.gz
                   COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/deploy/debian/changelog
                           > ${PROJECT_BINARY_DIR}/changelog.Debian.gz
                   DEPENDS ${PROJECT_SOURCE_DIR}/deploy/debian/changelog VERBATIM)
foreach(_page conformd conformctl conform-signer conform-backup conform-restore)
  add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/man/${_page}.8.gz
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
                     COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/deploy/debian/${_page}.8
                             > ${PROJECT_BINARY_DIR}/man/${_page}.8.gz
                     DEPENDS ${PROJECT_SOURCE_DIR}/deploy/debian/${_page}.8 VERBATIM)
  list(APPEND _pages ${PROJECT_BINARY_DIR}/man/${_page}.8.gz)
endforeach()
add_custom_target(conform_package_files ALL
                  DEPENDS ${PROJECT_BINARY_DIR}/changelog.Debian.gz ${_pages})
install(FILES ${PROJECT_BINARY_DIR}/changelog.Debian.gz DESTINATION share/doc/conform)
install(FILES ${_pages} DESTINATION share/man/man8)

if(CONFORM_INSTALL_SYSTEM_FILES)
  install(FILES deploy/debian/conform.conf DESTINATION /etc/conform)
  install(FILES
            deploy/systemd/conformd.service
            deploy/systemd/conform-signer.service
            deploy/systemd/conform-janitor.service
            deploy/systemd/conform-janitor.timer
          DESTINATION /lib/systemd/system)
endif()
# Backup and restore are commands of their own (each with a man page); the
# nginx site is an example to copy into /etc/nginx/sites-available and edit
# where it says "SITE:" (docs/operations.md, "TLS in front (nginx)").
install(PROGRAMS deploy/backup/conform-backup deploy/backup/conform-restore DESTINATION bin)
install(FILES deploy/nginx/conform.conf DESTINATION share/doc/conform/examples/nginx)

# The Debian package: cpack -G DEB in the build tree (tests/deploy/test_package.sh).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME conform)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "conform maintainers <maintainers@users.noreply.r-seed-9ac0caa7.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "IoT security conformity certification service")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "conform runs IoT security certification schemes (UK DCMS Code of Practice,\n\
IoTSF Compliance Framework 2.0, ETSI EN 303 645, UK PSTI): manufacturers\n\
apply and upload evidence, accredited assessment bodies review and issue\n\
signed W3C verifiable credentials, buyers verify them online or offline.\n\
.\n\
This package holds conformd (the REST service), conformctl (the admin tool)\n\
and conform-signer (the process that alone holds the signing keys), with\n\
their systemd units, the database migrations and the shipped schemes.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/conform-project/conform")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, softhsm2")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "postgresql-15")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nginx-light | nginx")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
include(CPack)
