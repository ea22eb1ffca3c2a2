using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Text;

namespace ObjectaLabs.Orleans.Api.Problems;

/// <summary>
/// The one boundary check for text PostgreSQL cannot store (NUL, unpaired surrogates; see
/// <see cref="StorableText"/>), applied to every request before its handler runs: each query parameter (name
/// and value), the decoded path, and every string and property name of a JSON body, escaped or not. A fault is a
/// 400 naming the parameter or the JSON path, so no handler, grain or query ever sees such text. JSONL uploads
/// are streamed and checked line by line by the upload path, which names the line.
/// </summary>
public static class StorableRequestText
{
    public static IApplicationBuilder UseStorableRequestText(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        Check(http.Request);
        if (IsJson(http.Request))
        {
            await CheckJsonBodyAsync(http);
        }
        await next(http);
    });

    /// <summary>
    /// True when the request's path and query hold only storable text and it carries no JSON body to check: what the
    /// middleware would let through without reading anything (for resolution's fast path, which passes anything else on).
    /// </summary>
    public static bool IsStorable(HttpRequest request) => !IsJson(request) && PathAndQueryStorable(request);

    private static void Check(HttpRequest request)
    {
        if (StorableText.Find(request.Path.Value.AsSpan()) is { } pathFault)
        {
            throw ProblemException.Invalid("path", $"The request path {pathFault.Reason}.");
        }
        // Without a percent sign the decoded names and values are the raw text's pieces ('+' becomes a space), so
        // one scan of the raw query decides (the hot path: resolution's plain '?subject=…').
        if (request.QueryString.Value is not { Length: > 0 } raw || (!raw.Contains('%') && StorableText.Find(raw.AsSpan()) is null))
        {
            return;
        }
        foreach (var (name, values) in request.Query)
        {
            if (StorableText.Find(name.AsSpan()) is { } nameFault)
            {
                throw ProblemException.Invalid(Printable(name), $"A query parameter's name {nameFault.Reason}.");
            }
            foreach (var value in values)
            {
                if (StorableText.Find(value.AsSpan()) is { } fault)
                {
                    throw ProblemException.Invalid(name, $"The query parameter '{name}' {fault.Reason} (character {fault.Column}).");
                }
            }
        }
    }

    private static bool IsJson(HttpRequest request) =>
        request.ContentLength != 0 && request.HasJsonContentType();

    /// <summary>
    /// True when the request's path and query hold only storable text: the check this middleware makes before it reads a
    /// JSON body (for usage's fast path, which checks the body itself and passes anything else on).
    /// </summary>
    public static bool PathAndQueryStorable(HttpRequest request)
    {
        try
        {
            Check(request);
            return true;
        }
        catch (ProblemException)
        {
            return false;
        }
    }

    private static async Task CheckJsonBodyAsync(HttpContext http)
    {
        var json = await BufferJsonBodyAsync(http);
        // Only an escape can spell text that cannot be stored (see Unescaped): a body without a backslash has none.
        if (json.Span.Contains((byte)'\\') && Find(json.Span) is { } fault)
        {
            throw ProblemException.Invalid(fault.Path, $"The value at {fault.Path} {fault.Reason}.");
        }
    }

    /// <summary>
    /// Reads the whole body (JSON routes' bodies are small: Api:MaxRequestBodyBytes, 1 MiB by default, enforced by
    /// Kestrel while reading) into one pooled array, given back when the response ends, and makes the same bytes the
    /// request's body (stream and pipe) for whatever reads it next, so they are read from the socket once and copied once.
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>> BufferJsonBodyAsync(HttpContext http)
    {
        var request = http.Request;
        var pipe = request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await pipe.ReadAsync(http.RequestAborted);
            if (read.IsCompleted || read.IsCanceled)
            {
                break;
            }
            pipe.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
        var length = checked((int)read.Buffer.Length);
        var body = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        read.Buffer.CopyTo(body);
        pipe.AdvanceTo(read.Buffer.End);
        http.Response.RegisterForDispose(new Returned(body));
        var json = body.AsMemory(0, length);
        request.Body = new MemoryStream(body, 0, length, writable: false);
        http.Features.Set<IRequestBodyPipeFeature>(new BufferedBody(PipeReader.Create(new ReadOnlySequence<byte>(json))));
        return json;
    }

    /// <summary>The checked body as the request's pipe.</summary>
    private sealed class BufferedBody(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader => reader;
    }

    /// <summary>Gives the body's pooled array back when the request is over.</summary>
    private sealed class Returned(byte[] array) : IDisposable
    {
        public void Dispose() => ArrayPool<byte>.Shared.Return(array);
    }

    /// <summary>The first string or property name in <paramref name="json"/> that cannot be stored, with its JSON path.</summary>
    /// <remarks>Malformed JSON is left to the binder, which names its line; this only looks at what parses.</remarks>
    public static (string Path, string Reason)? Find(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256, CommentHandling = JsonCommentHandling.Disallow });
        var path = new List<object>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        Advance(path);
                        path.Add(reader.TokenType == JsonTokenType.StartArray ? -1 : "");
                        continue;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        path.RemoveAt(path.Count - 1);
                        continue;
                    case JsonTokenType.PropertyName:
                        var name = Unescaped(ref reader, out var nameFault);
                        if (nameFault is not null)
                        {
                            return (Render(path) + "." + Printable(name), "is a property name that " + nameFault);
                        }
                        path[^1] = name;
                        continue;
                    case JsonTokenType.String:
                        Advance(path);
                        Unescaped(ref reader, out var valueFault);
                        if (valueFault is not null)
                        {
                            return (Render(path), valueFault);
                        }
                        continue;
                    default:
                        Advance(path);
                        continue;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the binder refuses it with the line and position.
        }
        return null;
    }

    /// <summary>The token's text; <paramref name="fault"/> says why it cannot be stored, if so.</summary>
    private static string Unescaped(ref Utf8JsonReader reader, out string? fault)
    {
        fault = null;
        if (!reader.ValueIsEscaped)
        {
            // Unescaped JSON text is valid UTF-8 without control characters (the reader checks), so it is storable.
            return reader.HasValueSequence ? Encoding.UTF8.GetString(reader.ValueSequence.ToArray()) : Encoding.UTF8.GetString(reader.ValueSpan);
        }
        try
        {
            var text = reader.GetString() ?? "";
            if (StorableText.Find(text.AsSpan()) is { } found)
            {
                fault = found.Reason;
            }
            return text;
        }
        catch (InvalidOperationException)
        {
            // The reader refuses to unescape a \uD800-style escape without its partner.
            fault = "contains an escaped unpaired UTF-16 surrogate, which is not a character and cannot be stored";
            return "?";
        }
    }

    /// <summary>A value inside an array moves the array's index on.</summary>
    private static void Advance(List<object> path)
    {
        if (path.Count > 0 && path[^1] is int index)
        {
            path[^1] = index + 1;
        }
    }

    private static string Render(List<object> path)
    {
        var text = new StringBuilder("$");
        foreach (var segment in path)
        {
            _ = segment switch
            {
                int index => text.Append('[').Append(index).Append(']'),
                string { Length: > 0 } name => text.Append('.').Append(Printable(name)),
                _ => text,
            };
        }
        return text.ToString();
    }

    /// <summary>A name fit to quote back: faults replaced, long names cut.</summary>
    private static string Printable(string name)
    {
        var builder = new StringBuilder(Math.Min(name.Length, 64));
        foreach (var c in name.AsSpan(0, Math.Min(name.Length, 64)))
        {
            builder.Append(c == '\0' || char.IsSurrogate(c) ? '\uFFFD' : c);
        }
        return name.Length > 64 ? builder.Append('…').ToString() : builder.ToString();
    }
}
