using Firestarter.Security;

namespace Firestarter.Tests.Security;

public class ApiKeySetTests
{
    private const string First = "first-key-0123456789abcdef";
    private const string Second = "second-key-fedcba9876543210";

    [Fact]
    public void Each_configured_key_matches()
    {
        var keys = new ApiKeySet([First, Second]);
        Assert.False(keys.IsEmpty);
        Assert.True(keys.Contains(First));
        Assert.True(keys.Contains(Second));
    }

    [Theory]
    [InlineData("")]
    [InlineData("first-key-0123456789abcde")]
    [InlineData("first-key-0123456789abcdef0")]
    [InlineData("FIRST-KEY-0123456789ABCDEF")]
    public void Anything_else_does_not(string presented)
    {
        Assert.False(new ApiKeySet([First, Second]).Contains(presented));
    }

    [Fact]
    public void An_empty_set_matches_nothing()
    {
        var keys = new ApiKeySet([]);
        Assert.True(keys.IsEmpty);
        Assert.False(keys.Contains(First));
        Assert.False(keys.Contains(""));
    }

    [Fact]
    public void Keys_longer_than_the_stack_buffer_and_non_ascii_keys_compare_by_their_utf8_bytes()
    {
        var longKey = new string('k', 2000);
        var accented = "clé-secrète-0123456789";
        var keys = new ApiKeySet([longKey, accented]);
        Assert.True(keys.Contains(longKey));
        Assert.False(keys.Contains(longKey.AsSpan(0, 1999)));
        Assert.True(keys.Contains(accented));
        Assert.False(keys.Contains("cle-secrete-0123456789"));
    }
}
