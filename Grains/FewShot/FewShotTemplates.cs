using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Text;

namespace ObjectaLabs.Orleans.FewShot;

/// <summary>The rules of a few-shot template, each refusal naming its field; a template that passes is stored as it will be used.</summary>
public static class FewShotTemplates
{
    public const int MaxPatternLength = 2_000;

    public static FewShotTemplate Check(FewShotTemplate template, bool embeddingsConfigured)
    {
        if (!Enum.IsDefined(template.Mode))
        {
            throw ProblemException.Invalid("mode", "'mode' is lexical, embedding or fixed.");
        }
        if (template.Mode == FewShotMode.Embedding && !embeddingsConfigured)
        {
            throw ProblemException.Invalid("mode", "The embedding mode needs an OpenAI-compatible embeddings endpoint, and this installation has none (FewShot__Embeddings__BaseUrl, FewShot__Embeddings__ApiKey). Use lexical, which needs no service.");
        }
        if (!Enum.IsDefined(template.Format))
        {
            throw ProblemException.Invalid("format", "'format' is chat or text.");
        }
        if (!Enum.IsDefined(template.ApplyTo))
        {
            throw ProblemException.Invalid("applyTo", "'applyTo' is baseModels or allModels.");
        }
        Text(template.Prefix, "prefix", FewShotTemplate.MaxTextLength);
        if (template.K is < 1 or > FewShotTemplate.MaxK)
        {
            throw ProblemException.Invalid("k", $"'k' (examples per request) is from 1 to {FewShotTemplate.MaxK}.");
        }
        if (template.TokenBudget is < 1 or > FewShotTemplate.MaxTokenBudget)
        {
            throw ProblemException.Invalid("tokenBudget", $"'tokenBudget' (tokens the examples may take) is from 1 to {FewShotTemplate.MaxTokenBudget:N0}.");
        }
        if (template.Format == FewShotFormat.Text)
        {
            Text(template.ExamplePattern, "examplePattern", MaxPatternLength);
            if (!template.ExamplePattern.Contains("{question}", StringComparison.Ordinal) || !template.ExamplePattern.Contains("{answer}", StringComparison.Ordinal))
            {
                throw ProblemException.Invalid("examplePattern", "'examplePattern' renders one example: it must contain {question} and {answer}.");
            }
            Text(template.Suffix, "suffix", MaxPatternLength);
            if (!template.Suffix.Contains("{input}", StringComparison.Ordinal))
            {
                throw ProblemException.Invalid("suffix", "'suffix' follows the examples: it must contain {input}, where the user's message goes.");
            }
        }
        else if (template.ExamplePattern.Length > 0 || template.Suffix.Length > 0)
        {
            var field = template.ExamplePattern.Length > 0 ? "examplePattern" : "suffix";
            throw ProblemException.Invalid(field, $"'{field}' applies to the text format only: the chat format sends each example as its chat turns and the user's message as the last turn.");
        }
        if (template.Mode == FewShotMode.Fixed)
        {
            if (template.ExampleIds.Count is 0 or > FewShotTemplate.MaxK)
            {
                throw ProblemException.Invalid("exampleIds", $"A fixed template lists its examples in order: from 1 to {FewShotTemplate.MaxK} ids.");
            }
            if (template.ExampleIds.Distinct().Count() != template.ExampleIds.Count)
            {
                throw ProblemException.Invalid("exampleIds", "'exampleIds' lists an example more than once.");
            }
        }
        else if (template.ExampleIds.Count > 0)
        {
            throw ProblemException.Invalid("exampleIds", "'exampleIds' applies to the fixed mode only; lexical and embedding selection choose the examples per request.");
        }
        return template with { ExampleIds = [.. template.ExampleIds] };
    }

    private static void Text(string text, string field, int maxLength)
    {
        if (text.Length > maxLength)
        {
            throw ProblemException.Invalid(field, $"'{field}' is at most {maxLength:N0} characters.");
        }
        if (!StorableText.IsStorable(text))
        {
            throw ProblemException.Invalid(field, $"'{field}' holds a character that cannot be stored (a NUL or an unpaired surrogate).");
        }
    }
}
