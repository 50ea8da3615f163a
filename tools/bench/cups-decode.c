/*
 * Decodes a PWG raster file with libcups (cupsRasterReadHeader2 and
 * cupsRasterReadPixels, one line at a time) and prints the time spent in the
 * decode loop, so the benchmark can set our decoder beside CUPS's own.
 * Usage: cups-decode FILE  ->  "<seconds> <pages> <lines> <checksum>"
 */
#include <cups/raster.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  double start = now();
  cups_raster_t *raster = cupsRasterOpen(fd, CUPS_RASTER_READ);
  cups_page_header2_t header;
  unsigned char *line = NULL;
  size_t capacity = 0;
  unsigned long pages = 0, lines = 0, checksum = 0;
  while (cupsRasterReadHeader2(raster, &header)) {
    if (header.cupsBytesPerLine > capacity) {
      capacity = header.cupsBytesPerLine;
      line = realloc(line, capacity);
    }
    for (unsigned y = 0; y < header.cupsHeight; y++) {
      if (cupsRasterReadPixels(raster, line, header.cupsBytesPerLine) == 0) break;
      checksum += line[y % header.cupsBytesPerLine];
      lines++;
    }
    pages++;
  }
  double elapsed = now() - start;
  cupsRasterClose(raster);
  close(fd);
  free(line);
  printf("%.6f %lu %lu %lu\n", elapsed, pages, lines, checksum);
  return 0;
}
