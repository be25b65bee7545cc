/*
 * qrsvg: a QR code (libqrencode, error correction M, the smallest version
 * that holds the text) as a compact SVG: one path of the dark modules, one
 * unit per module, a quiet zone of 4 modules on a white background, so it
 * scales to any label size and scans on a dark page. Knows no domain type.
 */
#ifndef CONFORM_QRSVG_H
#define CONFORM_QRSVG_H

#include "error.h"

/* The largest text qrsvg_render takes (bytes): a URI, never a document. */
#define QRSVG_TEXT_MAX 1024

/* The SVG of the QR code of text (8-bit mode) in *svg (caller frees); title
 * is the SVG's <title> (escaped here) for screen readers. CF_ETOOLARGE past
 * QRSVG_TEXT_MAX; CF_EINTERNAL if libqrencode fails. */
cf_err qrsvg_render(const char *text, const char *title, char **svg,
		    struct cf_error *err) CF_MUST_CHECK;


#endif
