using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ObjectaLabs.Orleans.Examples;

namespace ObjectaLabs.Orleans.Api.Apis;

/// <summary>
/// A stored example travels through the cluster as its canonical JSON text; the API answers it as the JSON object
/// it is (<c>"example": {"messages": …}</c>), not as a string holding JSON.
/// </summary>
public static class ExampleJson
{
    public static void AnswerExamplesAsObjects(this JsonSerializerOptions options) =>
        options.TypeInfoResolver = (options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(typeInfo =>
        {
            if (typeInfo.Type != typeof(TrainingExample))
            {
                return;
            }
            foreach (var property in typeInfo.Properties)
            {
                if (property.Name.Equals(nameof(TrainingExample.Example), StringComparison.OrdinalIgnoreCase))
                {
                    property.CustomConverter = new RawJsonObject();
                }
            }
        });

    /// <summary>Writes stored JSON text as is; reading is not needed (requests carry examples as <see cref="JsonElement"/>).</summary>
    private sealed class RawJsonObject : JsonConverter<string>
    {
        public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.GetRawText();
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteRawValue(value, skipInputValidation: false);
    }
}
