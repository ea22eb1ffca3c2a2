using System.Buffers;

namespace ObjectaLabs.Orleans.Uploads;

/// <summary>
/// Cuts a JSONL stream into <see cref="UploadChunk"/>s of whole lines of about <c>chunkBytes</c>
/// each, reading it once and holding at most one chunk plus one line in memory. A line longer than
/// <c>maxLineBytes</c> is never buffered past the cap: its bytes are dropped as they arrive, up to
/// its end, and it is sent as a <see cref="UploadChunk.LineTooLong"/> marker with its number.
/// </summary>
public static class JsonlChunker
{
    public const int DefaultChunkBytes = 1 << 20;
    public const int DefaultMaxLineBytes = 8 << 20;

    public static async IAsyncEnumerable<UploadChunk> ReadAsync(
        Stream stream,
        int chunkBytes = DefaultChunkBytes,
        int maxLineBytes = DefaultMaxLineBytes,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var splitter = new Splitter(chunkBytes, maxLineBytes);
        var read = new byte[64 * 1024];
        var ready = new List<UploadChunk>();
        while (true)
        {
            var n = await stream.ReadAsync(read, cancellationToken);
            if (n == 0)
            {
                splitter.End(ready);
            }
            else
            {
                splitter.Feed(read.AsSpan(0, n), ready);
            }
            foreach (var chunk in ready)
            {
                yield return chunk;
            }
            ready.Clear();
            if (n == 0)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// The cutting itself, fed bytes as they come. Invariant: the buffer starts at a line start and
    /// holds complete lines plus the start of one more, each at most the line cap long.
    /// </summary>
    public sealed class Splitter(int chunkBytes, int maxLineBytes)
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(Math.Min(chunkBytes, 1 << 20) * 2);
        private long _nextLine = 1;   // number of the first line in the buffer
        private int _completeLines;   // complete lines in the buffer
        private int _completeBytes;   // their bytes, '\n' included
        private bool _skipping;       // inside a line over the cap, dropping bytes up to its '\n'

        public void Feed(ReadOnlySpan<byte> data, List<UploadChunk> output)
        {
            while (!data.IsEmpty)
            {
                var newline = data.IndexOf((byte)'\n');
                if (_skipping)
                {
                    if (newline < 0)
                    {
                        return;
                    }
                    _skipping = false;
                    data = data[(newline + 1)..];
                    continue;
                }
                var partial = _buffer.WrittenCount - _completeBytes;
                var segment = newline < 0 ? data.Length : newline; // the line's bytes in this piece, '\n' excluded
                if ((long)partial + segment > maxLineBytes)
                {
                    // Too long: send what precedes it, then the marker, and drop the line's bytes.
                    Flush(output, includePartial: false);
                    output.Add(new UploadChunk(_nextLine, [], LineTooLong: true));
                    _nextLine++;
                    _buffer.ResetWrittenCount();
                    _completeBytes = 0;
                    if (newline < 0)
                    {
                        _skipping = true;
                        return;
                    }
                    data = data[(newline + 1)..];
                    continue;
                }
                if (newline < 0)
                {
                    _buffer.Write(data);
                    return;
                }
                _buffer.Write(data[..(newline + 1)]);
                _completeLines++;
                _completeBytes = _buffer.WrittenCount;
                data = data[(newline + 1)..];
                if (_completeBytes >= chunkBytes)
                {
                    Flush(output, includePartial: false);
                }
            }
        }

        /// <summary>The end of the stream: the last line needs no '\n'.</summary>
        public void End(List<UploadChunk> output)
        {
            if (!_skipping)
            {
                Flush(output, includePartial: true);
            }
        }

        private void Flush(List<UploadChunk> output, bool includePartial)
        {
            var written = _buffer.WrittenSpan;
            var cut = includePartial ? written.Length : _completeBytes;
            if (cut == 0)
            {
                return;
            }
            output.Add(new UploadChunk(_nextLine, written[..cut].ToArray()));
            _nextLine += _completeLines + (includePartial && cut > _completeBytes ? 1 : 0);
            var rest = written[cut..].ToArray();
            _buffer.ResetWrittenCount();
            _buffer.Write(rest);
            _completeLines = 0;
            _completeBytes = 0;
        }
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
