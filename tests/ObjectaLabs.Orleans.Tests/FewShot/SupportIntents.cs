namespace ObjectaLabs.Orleans.Tests.FewShot;

/// <summary>
/// A labelled fixture for selection: customer-support intents, each with paraphrased questions (different wording, the
/// same need) and one answer, tagged with the intent. Written for these tests; no example comes from elsewhere.
/// </summary>
public static class SupportIntents
{
    public sealed record Intent(string Tag, string Answer, string[] Questions);

    public static readonly Intent[] All =
    [
        new("refund", "You can ask for a refund within 30 days: open Orders, choose the order and press Request refund.",
        [
            "How do I get a refund for my order?",
            "I want my money back for this purchase, how does a refund work?",
            "Can I request a refund on an order I placed last week?",
            "What is your refund policy for damaged items?",
            "My order arrived broken, I need a refund please",
            "How long does a refund take to reach my card?",
            "Is it possible to refund an order that was a gift?",
            "Refund request: the product did not match the description",
        ]),
        new("password", "Press 'Forgot password' on the sign-in page and follow the link we email you.",
        [
            "I forgot my password, how can I reset it?",
            "How do I change my password?",
            "The password reset email never arrived",
            "Can't sign in, I think my password is wrong, how to reset it?",
            "Reset password link expired, what now?",
            "Where do I set a new password for my account?",
            "My password stopped working after the update",
            "How often should I change my password and how?",
        ]),
        new("tracking", "Open Orders and press Track package: you'll see the carrier and the latest scan.",
        [
            "Where is my package? How can I track it?",
            "How do I track my shipment?",
            "The tracking number for my delivery does not work",
            "My package tracking has not updated in days",
            "Can I track a package that was shipped to my office?",
            "When will my shipment arrive, is there tracking?",
            "Tracking says delivered but I have no package",
            "Which carrier ships my package and where is the tracking link?",
        ]),
        new("cancel-subscription", "Go to Settings, Subscription, and press Cancel subscription; you keep access until the period ends.",
        [
            "How do I cancel my subscription?",
            "I want to stop my monthly subscription",
            "Cancel subscription before the next billing date",
            "Can I pause my subscription instead of cancelling it?",
            "Will I be charged after I cancel the subscription?",
            "How to end my premium subscription plan",
            "Subscription cancellation is not working in the app",
            "Do I get a partial refund if I cancel my annual subscription midway?",
        ]),
        new("address", "Open Settings, Addresses, to edit your shipping address; orders not yet shipped can be changed from Orders.",
        [
            "How can I change my shipping address?",
            "I moved, how do I update my address?",
            "Wrong delivery address on my order, can I change it?",
            "Add a second shipping address to my account",
            "Can I change the address after the order shipped?",
            "Update billing address and shipping address",
            "The address form rejects my postal code",
            "How do I delete an old address from my account?",
        ]),
        new("invoice", "Every invoice is under Billing, Invoices; press Download for a PDF with your VAT number.",
        [
            "Where can I download my invoice?",
            "I need an invoice with my company VAT number",
            "How do I get a PDF invoice for last month?",
            "The invoice shows the wrong company name",
            "Can you send me a copy of my invoice by email?",
            "Invoice for my annual plan, where do I find it?",
            "Need an itemized invoice for my accounting department",
            "Why does my invoice total differ from my order?",
        ]),
        new("payment-failed", "Check the card's expiry and limit, then retry under Billing; your bank may also need to approve the payment.",
        [
            "My payment failed, what should I do?",
            "Card declined at checkout, why did the payment fail?",
            "Payment keeps failing even though my card is valid",
            "Why was my payment rejected?",
            "How do I retry a failed payment?",
            "Checkout says payment error, please help",
            "Payment failed but the money left my account",
            "Can I pay with another card after the payment failed?",
        ]),
        new("delete-account", "Open Settings, Privacy, and press Delete account; we erase your data within 30 days.",
        [
            "How do I delete my account?",
            "Please remove my account and all my data",
            "I want to close my account permanently",
            "Can I delete my account but keep my orders history?",
            "Account deletion request under GDPR",
            "How long until my deleted account data is erased?",
            "Delete account button is missing in the app",
            "Can I reopen an account after I deleted it?",
        ]),
    ];

    /// <summary>One example per question, as the OpenAI chat format, with its intent's tag.</summary>
    public static IEnumerable<(string Tag, string Question, string Answer)> Examples() =>
        All.SelectMany(intent => intent.Questions.Select(q => (intent.Tag, q, intent.Answer)));
}
