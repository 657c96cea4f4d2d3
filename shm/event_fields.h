/*
 * One field table per event type: each field's name, where it is in the
 * event and what kind of value it holds (a price at the instrument's
 * px_scale, a quantity at its qty_scale, an enum with names, ...).  The
 * tables are data; the printers below walk them, so `fks tail`, `fks
 * journal export` (JSON lines and CSV) and `fks replay --verify` describe an
 * event's fields in one place and cannot disagree.
 */
#ifndef FKS_SHM_EVENT_FIELDS_H
#define FKS_SHM_EVENT_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/event.h"
#include "shm/text_sink.h"

enum fks_field_kind {
	FKS_FIELD_PX,          /* int64 at the instrument's px_scale */
	FKS_FIELD_QTY,         /* int64 at its qty_scale */
	FKS_FIELD_RISK_AMOUNT, /* risk reject limit/value: units depend on the reason */
	FKS_FIELD_UINT,        /* unsigned integer of `size` bytes */
	FKS_FIELD_INT,         /* signed integer of `size` bytes (8 only) */
	FKS_FIELD_TIME_NS,     /* int64 nanoseconds */
	FKS_FIELD_ENUM,        /* unsigned of `size` bytes, named by enum_name */
	FKS_FIELD_CONF,        /* uint32, FKS_CONF_ONE is 1.0 */
	FKS_FIELD_SYMBOL,      /* char[FKS_SYMBOL_MAX], NUL-padded */
};

struct fks_field {
	const char *name;
	uint8_t kind;          /* enum fks_field_kind */
	uint8_t off;           /* byte offset in the event */
	uint8_t size;          /* bytes of the value */
	const char *(*enum_name)(unsigned v); /* FKS_FIELD_ENUM: name, or NULL if unknown */
};

struct fks_field_list {
	const struct fks_field *f;
	size_t n;
};

/* The fields of an event type after its header; n == 0 for an unknown type. */
struct fks_field_list fks_event_fields(unsigned type);
/* The header's fields (type, source, flags, instrument, seq, times). */
struct fks_field_list fks_event_header_fields(void);

/* The instrument's scales; printers take NULL when the instrument is not
 * known, and then print prices and quantities as raw integers, the only
 * numbers that are not a guess. */
struct fks_scales {
	unsigned px_scale, qty_scale;
};

enum fks_text_style { FKS_STYLE_TEXT, FKS_STYLE_JSON, FKS_STYLE_CSV };

/* One field's value in a style: enums are names (quoted in JSON), numbers
 * are decimal, a symbol is escaped for the style. */
void fks_field_print(struct fks_sink *s, const union fks_event *ev, const struct fks_field *fd,
		     const struct fks_scales *sc, enum fks_text_style st);
/* An identifier-like name (enum names, type names): quoted in JSON only. */
void fks_print_name(struct fks_sink *s, const char *name, enum fks_text_style st);
/* Bytes from an event (a symbol: at most n, NUL-padded), escaped for the
 * style: JSON keeps every byte (fks_sink_json_string); text and CSV print
 * a byte that is not printable ASCII as '?', so an event stays one line,
 * text also a space, and CSV quotes a value holding ',' or '"'. */
void fks_print_symbol(struct fks_sink *s, const char *sym, size_t n, enum fks_text_style st);

/* Every field of the event's type: " name=value" each in text,
 * ",\"name\":value" each in JSON (to follow other keys of one object). */
void fks_event_fields_text(struct fks_sink *s, const union fks_event *ev, const struct fks_scales *sc);
void fks_event_fields_json(struct fks_sink *s, const union fks_event *ev, const struct fks_scales *sc);

/* Compares two events field by field, header first, then the fields of
 * a's type; returns the first field that differs, or NULL if every field
 * is equal (bytes that no field names, such as padding, are not compared).
 * When the types differ the header's "type" field is returned. */
const struct fks_field *fks_event_first_difference(const union fks_event *a, const union fks_event *b);

/* The names of enums that live in event fields; NULL if unknown. */
const char *fks_side_name(unsigned v);
const char *fks_book_action_name(unsigned v);
const char *fks_ord_type_name(unsigned v);
const char *fks_tif_name(unsigned v);
const char *fks_ctl_op_name(unsigned v);

#endif
