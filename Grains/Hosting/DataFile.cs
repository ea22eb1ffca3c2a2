using System.Text.Json;

namespace ObjectaLabs.Orleans.Hosting;

/// <summary>The versioned data files shipped in <c>Data/</c> (plans, model catalog): where they are and how they are read.</summary>
public static class DataFile
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>The copy shipped beside the binaries.</summary>
    public static string DefaultPath(string fileName) => Path.Combine(AppContext.BaseDirectory, "Data", fileName);

    public static T Read<T>(string path)
    {
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<T>(stream, Json) ?? throw new InvalidOperationException($"Data file '{path}' is empty.");
    }
}
