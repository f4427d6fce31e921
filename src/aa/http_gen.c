/*
 * http_gen.c - http_aa_module: the thesis' HTTP answer module (appendix)
 * built by the macro generator from the description in http_gen_def.h.
 * Applications that read its records include http_gen_def.h and then
 * generate_aa_api.h with AA_GEN_DECLARE_ONLY defined.
 */
#include "aa/http_gen_def.h"
#include "generate_aa_api.h"
