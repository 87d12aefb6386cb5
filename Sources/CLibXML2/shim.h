#ifndef NEWSD_CLIBXML2_SHIM_H
#define NEWSD_CLIBXML2_SHIM_H

#include <libxml/xmlversion.h>
/* Foundation's ICU and libxml2's ICU headers disagree about UErrorCode. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>
#include <libxml/HTMLtree.h>
#include <libxml/xmlerror.h>

/* xmlFree is a global function pointer, which Swift 6 rejects as shared mutable state. */
static inline void newsd_xml_free(void *pointer) {
    xmlFree(pointer);
}

#endif
