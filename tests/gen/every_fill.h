/* The sample `everything` value of tests/gen/every.x, built field by field.
 * Included after either rpcgen's header or xipc gen's: both lay the types
 * out the same way. Define EVERY_NO_QUAD for the rpcgen variant of the
 * file, which has no quadruple fields. Python (tests/python/test_gen.py) and
 * Rust (tests/idl_rust.rs) build the same value. */
#include <string.h>

static node every_nodes[3];
static point every_pt[5];
static char every_vo[] = "xyz";
static int every_va[] = {10, 20, 30, 40, 50};
static int every_ba[] = {-1, -2};
static color every_colors[] = {RED, BLUE};
static double every_ds[] = {3.5};
static char *every_ns[] = {"a", "bc"};
static char every_other[] = "hi";
static int every_il[] = {0};
static char every_bl[] = "blob";

static void every_point(point *p, int k)
{
	memset(p, 0, sizeof *p);
	p->x = 0.5f * (float)k;
	p->y = 1e10 + k;
	p->h = -1 - k;
	p->uh = 1u + (unsigned)k;
	p->flag = k % 2;
#ifndef EVERY_NO_QUAD
	{
		int i;
		for (i = 0; i < 16; i++)
			p->q.bytes[i] = (unsigned char)(k + i);
	}
#endif
}

static void every_fill(everything *e)
{
	int i;
	memset(e, 0, sizeof *e);
	e->i = -123456;
	e->u = 4000000000u;
	e->ui = 7;
	e->h = -1234567890123LL;
	e->uh = 18000000000000000000ULL;
	e->f = 1.5f;
	e->d = -2.25;
	e->b = TRUE;
	e->c = BLUE;
	e->sh = OTHER;
#ifndef EVERY_NO_QUAD
	for (i = 0; i < 16; i++)
		e->q.bytes[i] = (unsigned char)i;
#endif
	e->ch = 'A';
	e->sho = -2;
	e->lo = 100000;
	e->uch = 200;
	memcpy(e->fo, "abcde", 5);
	e->vo.vo_len = 3;
	e->vo.vo_val = every_vo;
	e->bo.bo_len = 0;
	e->bo.bo_val = NULL;
	e->s = "hello world";
	e->bs = "bounded";
	for (i = 0; i < 3; i++)
		e->fa[i] = i + 1;
	e->va.va_len = 5;
	e->va.va_val = every_va;
	e->ba.ba_len = 2;
	e->ba.ba_val = every_ba;
	e->bools[0] = TRUE;
	e->bools[1] = FALSE;
	e->colors.colors_len = 2;
	e->colors.colors_val = every_colors;
	e->ds.ds_len = 1;
	e->ds.ds_val = every_ds;
	every_point(&every_pt[0], 1);
	e->pts.pts_len = 1;
	e->pts.pts_val = &every_pt[0];
	every_point(&e->fpts[0], 2);
	every_point(&e->fpts[1], 3);
	e->n = "nm";
	e->ns.names_len = 2;
	e->ns.names_val = every_ns;
	for (i = 0; i < 3; i++) {
		every_nodes[i].value = i + 1;
		every_nodes[i].next = i < 2 ? &every_nodes[i + 1] : NULL;
	}
	e->list = &every_nodes[0];
	e->list2 = NULL;
	every_point(&every_pt[1], 4);
	e->opt = &every_pt[1];
	e->r.c = GREEN;
	e->r.result_u.msg = "ok";
	every_point(&e->sp, 5);
	e->ec = GREEN;
	e->m.which = 99;
	e->m.maybe_u.other.other_len = 2;
	e->m.maybe_u.other.other_val = every_other;
	e->fl.present = TRUE;
	e->fl.flagged_u.who = "me";
	e->co.kind = 5;
	e->il.intlist_len = 1;
	e->il.intlist_val = every_il;
	e->bl.blob_len = 4;
	e->bl.blob_val = every_bl;
	e->bi[0] = 1;
	e->bi[1] = 2;
	e->bi[2] = 3;
	e->pal[0] = RED;
	e->pal[1] = GREEN;
}
