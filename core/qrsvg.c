/*
 * qrsvg: QR codes as SVG (see qrsvg.h). The path draws each horizontal run
 * of dark modules as one rectangle ("M x y h n v1 h -n z"), which keeps a
 * label's SVG to a few kilobytes.
 */
#include <errno.h>
#include <string.h>

#include <qrencode.h>

#include "buf.h"
#include "qrsvg.h"

#define QUIET 4

cf_err qrsvg_render(const char *text, const char *title, char **svg, struct cf_error *err)
{
	*svg = NULL;
	QRcode *qr = NULL;
	struct buf b;
	buf_init(&b, 256u << 10);
	cf_err e = CF_OK;
	if (strlen(text) > QRSVG_TEXT_MAX) {
		e = cf_error_set(err, CF_ETOOLARGE, NULL, "a QR code holds at most %d bytes here",
				 QRSVG_TEXT_MAX);
		goto out;
	}
	/* 8-bit mode keeps the URI's case as it is (the page URL has lowercase) */
	qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
	if (!qr) {
		e = cf_error_set(err, CF_EINTERNAL, NULL, "libqrencode: %s", strerror(errno));
		goto out;
	}
	int w = qr->width, side = w + 2 * QUIET;
	e = buf_printf(&b, err,
		       "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		       "height=\"%d\" shape-rendering=\"crispEdges\" role=\"img\"><title>",
		       side, side, side * 4, side * 4);
	if (!e)
		e = buf_puts_markup(&b, title, err);
	if (!e)
		e = buf_printf(&b, err, "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
			       "<path fill=\"#000\" d=\"", side, side);
	for (int y = 0; y < w && !e; y++) {
		for (int x = 0; x < w && !e;) {
			if (!(qr->data[y * w + x] & 1)) {
				x++;
				continue;
			}
			int run = 0;
			while (x + run < w && (qr->data[y * w + x + run] & 1))
				run++;
			e = buf_printf(&b, err, "M%d %dh%dv1h-%dz", x + QUIET, y + QUIET, run, run);
			x += run;
		}
	}
	if (!e)
		e = buf_puts(&b, "\"/></svg>\n", err);
	if (!e)
		*svg = buf_steal(&b, NULL);
out:
	QRcode_free(qr);
	buf_free(&b);
	return e;
}
