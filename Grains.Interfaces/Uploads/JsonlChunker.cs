using System.Buffers;

namespace ObjectaLabs.Orleans.Uploads;

/// <summary>
/// Cuts a JSONL stream into <see cref="UploadChunk"/>s of whole lines of about
/// <c>chunkBytes</c> each, reading it once and holding at most one chunk (plus one line) in memory.
/// </summary>
public static class JsonlChunker
{
    public const int DefaultChunkBytes = 1 << 20;

    public static async IAsyncEnumerable<UploadChunk> ReadAsync(
        Stream stream,
        int chunkBytes = DefaultChunkBytes,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var buffer = new ArrayBufferWriter<byte>(chunkBytes * 2);
        var read = new byte[64 * 1024];
        long nextLine = 1;
        while (true)
        {
            var n = await stream.ReadAsync(read, cancellationToken);
            if (n > 0)
            {
                buffer.Write(read.AsSpan(0, n));
            }
            while (buffer.WrittenCount >= chunkBytes || (n == 0 && buffer.WrittenCount > 0))
            {
                var written = buffer.WrittenSpan;
                var cut = Cut(written, chunkBytes, endOfStream: n == 0);
                if (cut == 0)
                {
                    break; // one line longer than a chunk: read on until it ends
                }
                var data = written[..cut].ToArray();
                var rest = written[cut..].ToArray();
                buffer.ResetWrittenCount();
                buffer.Write(rest);
                var lines = CountLines(data);
                yield return new UploadChunk(nextLine, data);
                nextLine += lines;
            }
            if (n == 0)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// Where the next chunk ends: after the last '\n' within the first <paramref name="chunkBytes"/>
    /// bytes, else after the first '\n' at all (one long line), else, at the end of the stream, everything.
    /// </summary>
    private static int Cut(ReadOnlySpan<byte> written, int chunkBytes, bool endOfStream)
    {
        var within = written[..Math.Min(chunkBytes, written.Length)].LastIndexOf((byte)'\n');
        if (within >= 0)
        {
            return within + 1;
        }
        var first = written.IndexOf((byte)'\n');
        return first >= 0 ? first + 1 : endOfStream ? written.Length : 0;
    }

    /// <summary>Lines in a chunk: every '\n' ends one, and a last line without '\n' counts too.</summary>
    public static int CountLines(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return 0;
        }
        var count = data.Count((byte)'\n');
        return data[^1] == (byte)'\n' ? count : count + 1;
    }
}
