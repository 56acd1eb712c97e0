using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Envelope;
using EnvelopeKms.Tests.Documentation;

namespace EnvelopeKms.Tests.Envelope;

/// <summary>
/// docs/envelope-streaming.md describes the stream byte by byte; these tests read a real stream with
/// only that description (offsets, nonce, associated data) and a raw <see cref="AesGcm"/>, so the
/// document and the code cannot drift apart.
/// </summary>
public sealed class StreamingFormatDocumentationTests
{
    [Fact]
    public async Task A_stream_read_by_the_documented_offsets_opens_segment_by_segment_with_raw_AesGcm()
    {
        using var f = await StreamingFixture.CreateAsync();
        var plaintext = StreamingFixture.Plaintext((2 * StreamingFixture.SegmentSize) + 1000);
        var stream = await f.EncryptAsync(plaintext);
        var ct = TestContext.Current.CancellationToken;

        // Header, by the table: offsets 0..4, then n, m, c.
        Assert.Equal("EK"u8.ToArray(), stream[..2]);
        Assert.Equal(0x01, stream[2]);
        Assert.Equal(0x02, stream[3]);
        int n = stream[4];
        var keyId = Encoding.ASCII.GetString(stream, 5, n);
        Assert.Equal((await f.Kms.Manager.DescribeKeyAsync(keyId, ct)).KeyId, keyId);
        int m = BinaryPrimitives.ReadUInt16BigEndian(stream.AsSpan(5 + n));
        var encryptedDataKey = stream.AsMemory(7 + n, m);
        int c = BinaryPrimitives.ReadUInt16BigEndian(stream.AsSpan(7 + n + m));
        var salt = stream[(9 + n + m + c)..(41 + n + m + c)];
        var commitment = stream[(41 + n + m + c)..(73 + n + m + c)];
        var segmentSize = BinaryPrimitives.ReadInt32BigEndian(stream.AsSpan(73 + n + m + c));
        Assert.Equal(StreamingFixture.SegmentSize, segmentSize);
        var h = 77 + n + m + c;
        var streamNumber = BinaryPrimitives.ReadUInt32BigEndian(stream.AsSpan(h));
        Assert.True(streamNumber >= 1);

        // Length: H + 4 + L + 16k.
        var k = ((plaintext.Length - 1) / segmentSize) + 1;
        Assert.Equal(h + 4 + plaintext.Length + (16 * k), stream.Length);

        // The data key, from the key manager with the stored context; the keys derived as the one-shot format documents.
        using var dataKey = await f.Kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = encryptedDataKey, EncryptionContext = f.Protector.EncryptionContext }, ct);
        var dek = new byte[32];
        var derivedCommitment = new byte[32];
        EnvelopeFormat.DeriveKeys(dataKey.Plaintext, salt, 0x02, dek, derivedCommitment);
        Assert.Equal(derivedCommitment, commitment);

        // Segments: nonce = N | i | last | 000, AAD = SHA-256(header) | N.
        using var aes = new AesGcm(dek, 16);
        var aad = new byte[36];
        SHA256.HashData(stream.AsSpan(0, h), aad);
        BinaryPrimitives.WriteUInt32BigEndian(aad.AsSpan(32), streamNumber);
        var recovered = new List<byte>();
        for (var i = 0; i < k; i++)
        {
            var start = h + 4 + (i * (segmentSize + 16));
            var length = Math.Min(segmentSize + 16, stream.Length - start) - 16;
            var nonce = new byte[12];
            BinaryPrimitives.WriteUInt32BigEndian(nonce, streamNumber);
            BinaryPrimitives.WriteUInt32BigEndian(nonce.AsSpan(4), (uint)i);
            nonce[8] = i == k - 1 ? (byte)1 : (byte)0;
            var segment = new byte[length];
            aes.Decrypt(nonce, stream.AsSpan(start, length), stream.AsSpan(start + length, 16), segment, aad);
            recovered.AddRange(segment);

            // The other last-flag value does not open it.
            nonce[8] ^= 1;
            Assert.Throws<AuthenticationTagMismatchException>(() => aes.Decrypt(nonce, stream.AsSpan(start, length), stream.AsSpan(start + length, 16), segment, aad));
        }

        Assert.Equal(plaintext, recovered.ToArray());
    }

    [Fact]
    public void The_streaming_document_states_the_layout_the_nonce_the_associated_data_and_the_limits()
    {
        var document = File.ReadAllText(RepositoryFiles.PathOf("docs/envelope-streaming.md"));
        foreach (var statement in new[]
        {
            "| *H* = 77+*n*+*m*+*c* | 4 | stream number *N* (1 to 2^32−1) |",
            "| 73+*n*+*m*+*c* | 4 | segment size *S* (4096–16777216) |",
            "| 8 | last flag: `0x01` on the last segment, `0x00` on every other |",
            "SHA-256(header) (32 bytes) followed by the stream number *N* (4 bytes).",
            "*H* + 4 + *L* + 16·*k*",
            "Segments per stream: 2^32",
        })
        {
            Assert.Contains(statement, document, StringComparison.Ordinal);
        }
    }
}
