/*
 * httpglue: the two libmicrohttpd callbacks of http.c, for server.c only.
 */
#ifndef CONFORM_HTTPGLUE_H
#define CONFORM_HTTPGLUE_H

#include <microhttpd.h>

enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_data_size, void **con_cls);

void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		       enum MHD_RequestTerminationCode toe);

#endif
