/* Digests: known sha256/sha512 vectors, streaming = one-shot, fds, and validation. */
#include "tap.h"
#include "common/error.h"
#include "image/digest.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC   "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC512                                                                                     \
	"sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a8"  \
	"36ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
/* sha256 of one million 'a' (FIPS 180-2) */
#define MILLION_A "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static void validation(void)
{
	ok(img_digest_valid(EMPTY), "sha256 valid");
	ok(img_digest_valid(ABC512), "sha512 valid");
	is_str(img_digest_hex(ABC), ABC + 7, "hex part");
	is_str(img_digest_hex(ABC512), ABC512 + 7, "sha512 hex part");
	const char *bad[] = {
	    NULL,
	    "",
	    "sha256",
	    "sha256:",
	    ":e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
	    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
	    "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
	    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g",
	    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85 ",
	    "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "md5:d41d8cd98f00b204e9800998ecf8427e",
	    "SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "sha256::e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(!img_digest_valid(bad[i]), "invalid: %s", bad[i] ? bad[i] : "(null)");
		ok(img_digest_hex(bad[i]) == NULL, "no hex: %s", bad[i] ? bad[i] : "(null)");
	}
}

static void vectors(void)
{
	char out[IMG_DIGEST_MAX];
	img_digest_buf("", 0, out);
	is_str(out, EMPTY, "sha256 of nothing");
	img_digest_buf("abc", 3, out);
	is_str(out, ABC, "sha256 of abc");
	ok(img_digest_matches(ABC, "abc", 3), "abc matches");
	ok(!img_digest_matches(ABC, "abd", 3), "abd does not match");
	ok(img_digest_matches(ABC512, "abc", 3), "abc matches its sha512");
	ok(!img_digest_matches(ABC512, "ab", 2), "ab does not match the sha512 of abc");
	ok(!img_digest_matches("sha256:xyz", "abc", 3), "invalid digest matches nothing");

	struct img_hasher *h = img_hasher_new();
	ok(h != NULL, "hasher");
	img_hasher_final(h, out);
	is_str(out, EMPTY, "streaming: nothing");
	img_hasher_free(h);

	char *a = malloc(1000000);
	memset(a, 'a', 1000000);
	img_digest_buf(a, 1000000, out);
	is_str(out, MILLION_A, "one-shot: a million a");
	h = img_hasher_new();
	/* odd chunk sizes cross every block boundary */
	size_t off = 0, step = 1;
	while (off < 1000000) {
		size_t n = step < 1000000 - off ? step : 1000000 - off;
		img_hasher_update(h, a + off, n);
		off += n;
		step = step * 3 + 1;
		if (step > 70000)
			step = 7;
	}
	img_hasher_update(h, a, 0);
	img_hasher_final(h, out);
	is_str(out, MILLION_A, "streaming: a million a in odd chunks");
	img_hasher_free(h);
	img_hasher_free(NULL);
	free(a);
}

static void fds(void)
{
	char path[] = "/tmp/test_digest.XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);
	if (!ok(fd >= 0, "temp file")) {
		return;
	}
	unlink(path);
	char out[IMG_DIGEST_MAX];
	uint64_t size = 99;
	ok(img_digest_fd(fd, out, &size) == 0, "empty file");
	is_str(out, EMPTY, "digest of the empty file");
	is_int(size, 0, "size of the empty file");

	char *big = malloc(300000);
	for (size_t i = 0; i < 300000; i++)
		big[i] = (char)(i * 7 + 3);
	ok(write(fd, "xyzabc", 6) == 6, "write");
	ok(write(fd, big, 300000) == 300000, "write big");
	char want[IMG_DIGEST_MAX];
	img_digest_buf(big, 300000, want);

	/* from the current offset, not from the start */
	lseek(fd, 6, SEEK_SET);
	ok(img_digest_fd(fd, out, &size) == 0, "file from offset 6");
	is_str(out, want, "digest from offset 6");
	is_int(size, 300000, "size from offset 6");
	lseek(fd, 3, SEEK_SET);
	char *cat = malloc(300003);
	memcpy(cat, "abc", 3);
	memcpy(cat + 3, big, 300000);
	img_digest_buf(cat, 300003, want);
	ok(img_digest_fd(fd, out, NULL) == 0, "file from offset 3, size not asked");
	is_str(out, want, "digest from offset 3");
	free(cat);
	free(big);
	close(fd);

	int wfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	herr_clear();
	int rc = img_digest_fd(wfd, out, &size);
	is_int(rc, -EBADF, "unreadable fd refused");
	has_prefix(herr_msg(), "read /dev/null: ", "the error names the file: %s", herr_msg());
	close(wfd);
}

int main(void)
{
	validation();
	vectors();
	fds();
	return tap_done();
}
