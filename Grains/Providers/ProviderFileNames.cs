namespace ObjectaLabs.Orleans.Providers;

/// <summary>
/// A training file's name at the provider carries the SHA-256 of its bytes, so a provider's file list
/// tells whether the same bytes were uploaded before (providers keep no hash of their own we could ask for).
/// </summary>
public static class ProviderFileNames
{
    /// <summary><c>train.jsonl</c> + hash → <c>train.{sha256}.jsonl</c>; a name that already holds the hash is kept.</summary>
    public static string WithHash(string fileName, string sha256)
    {
        var hash = sha256.ToLowerInvariant();
        if (fileName.Contains(hash, StringComparison.OrdinalIgnoreCase))
        {
            return fileName;
        }
        var extension = Path.GetExtension(fileName);
        var stem = Path.GetFileNameWithoutExtension(fileName);
        return $"{stem}.{hash}{(extension.Length > 0 ? extension : ".jsonl")}";
    }
}

/// <summary>An <see cref="HttpContent"/> whose bytes a callback writes straight to the wire (never buffered).</summary>
public sealed class PushStreamContent(Func<Stream, CancellationToken, Task> write) : HttpContent
{
    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken) =>
        write(new LeaveOpenStream(stream), cancellationToken);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    /// <summary>Keeps the transport's stream open when the writer disposes its own wrapper (a StreamWriter, say).</summary>
    private sealed class LeaveOpenStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.WriteAsync(buffer, offset, count, cancellationToken);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(buffer, cancellationToken);
    }
}
