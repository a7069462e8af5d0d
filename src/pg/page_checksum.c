/*
 * PostgreSQL's own page checksum, from the header the server ships for external programs
 * (postgresql-server-dev-15: storage/checksum_impl.h), so lifeboat verifies pages exactly as
 * PostgreSQL computes them.
 */
#include "postgres_fe.h"

#include "storage/checksum_impl.h"

uint16 lifeboat_pg_checksum_page(char *page, uint32 blkno) { return pg_checksum_page(page, blkno); }
