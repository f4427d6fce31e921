/*
 * http_gen_def.h - the HTTP answer module of the thesis' appendix, as a
 * description for the macro generator (generate_aa_api.h, thesis 4.3.2,
 * figure 4.8): the server-to-client side of HTTP sessions whose bodies are
 * delimited by Content-Length (table 4.1). Include it, then
 * generate_aa_api.h; http_gen.c does so to build http_aa_module.
 *
 * Differences from the appendix: 16 header fields instead of 10 (the empty
 * line that ends the header section is one of them, as in the thesis), the
 * Content-Length name compared ignoring case (RFC 9110 5.1), and a body
 * cut short by the close is an error record. The hand-written
 * aa_http_response_module does the rest of HTTP/1.1 (chunked, no-body
 * responses, close-delimited bodies, any number of headers).
 */
#ifndef AATCP_HTTP_GEN_DEF_H
#define AATCP_HTTP_GEN_DEF_H

#define POST_PROCESS_ANSWER()                                                \
	if (GET_RECORD_VARIABLE(answer.content_length) == 0 &&               \
	    STRCASECMP("Content-Length: ") == 0) {                           \
		SET_RECORD_VARIABLE(answer.content_length,                   \
			ATOI_WITH_OFFSET(strlen("Content-Length: ")));       \
	}                                                                    \
	if (STRCMP("\r\n") == 0) {                                           \
		SET_VARIABLE(remaining_content_length,                       \
			     GET_RECORD_VARIABLE(answer.content_length));    \
		SET_STATE(HTTP_BODY);                                        \
		END_OF_RECORD();                                             \
	}

#define POST_PROCESS_BODY()                                                  \
	GET_VARIABLE(remaining_content_length) -= FIELD_LEN();               \
	if (GET_VARIABLE(remaining_content_length) <= 0) {                   \
		SET_VARIABLE(remaining_content_length, 0);                   \
		SET_STATE(HTTP_ANSWER);                                      \
	}                                                                    \
	END_OF_RECORD();

#define HEADER(i) \
	FIELD(HTTP_ANSWER_HEADER_##i, header##i, STRSTR("\r\n"), POST_PROCESS_ANSWER())

/* BEGIN PROTOCOL DECLARATION */
#define PROTOCOL http
#define NUM_FIELDS 18
#define REGISTER_STATES()           \
	STATE(HTTP_ANSWER, answer)  \
	STATE(HTTP_BODY, body)
#define REGISTER_VARIABLES() \
	VARIABLE(remaining_content_length, int)
#define REGISTER_FIELDS_HTTP_ANSWER                                          \
	FIELD(HTTP_ANSWER_VERSION, version, STRSTR(" "), VOID())             \
	FIELD(HTTP_ANSWER_STATUS_CODE, status_code, STRSTR("\r\n"), VOID())  \
	HEADER(0) HEADER(1) HEADER(2) HEADER(3) HEADER(4) HEADER(5)          \
	HEADER(6) HEADER(7) HEADER(8) HEADER(9) HEADER(10) HEADER(11)        \
	HEADER(12) HEADER(13) HEADER(14) HEADER(15)
#define REGISTER_VARIABLES_HTTP_ANSWER \
	VARIABLE(content_length, int)
#define REGISTER_FIELDS_HTTP_BODY \
	FIELD(HTTP_BODY_DATA, data, \
	      OFFSET(GET_VARIABLE(remaining_content_length)), POST_PROCESS_BODY())
#define REGISTER_VARIABLES_HTTP_BODY
#define ON_END_OF_STREAM()                                                   \
	if (CURRENT_STATE() == HTTP_BODY &&                                  \
	    GET_VARIABLE(remaining_content_length) > 0)                      \
		FAIL("connection closed inside a body")
#define MAX_RECORD_BYTES (16 * 1024)

#endif /* AATCP_HTTP_GEN_DEF_H */
