using Firestarter.Matching;

namespace Firestarter.Tests.Matching;

public class MatchKeyTests
{
    private static readonly MatchKey Reference = new("deployment_abc", "20240101.1", 1, 2);

    [Theory]
    [InlineData("1", 1.0)]
    [InlineData("1.0", 1.0)]
    [InlineData("1.000", 1.0)]
    [InlineData("1e0", 1.0)]
    [InlineData("1E0", 1.0)]
    [InlineData("1e+0", 1.0)]
    [InlineData("10e-1", 1.0)]
    [InlineData("+1", 1.0)]
    [InlineData("0.25", 0.25)]
    [InlineData(".25", 0.25)]
    [InlineData("0.250", 0.25)]
    [InlineData("2.5E-1", 0.25)]
    [InlineData("25e-2", 0.25)]
    [InlineData("0", 0.0)]
    [InlineData("0.0", 0.0)]
    [InlineData("8192", 8192.0)]
    public void TryParseMachineSize_reads_any_decimal_or_exponent_spelling_as_the_same_number(string text, double expected)
    {
        Assert.True(MatchKey.TryParseMachineSize(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("1", "1.0")]
    [InlineData("1", "1e0")]
    [InlineData("1", "1E0")]
    [InlineData("0.25", ".25")]
    [InlineData("0.25", "2.5E-1")]
    [InlineData("0", "-0")]
    [InlineData("0", "-0.0")]
    [InlineData("0", "0e10")]
    public void Keys_from_different_spellings_of_a_size_are_equal_and_hash_alike(string left, string right)
    {
        Assert.True(MatchKey.TryParseMachineSize(left, out var leftValue));
        Assert.True(MatchKey.TryParseMachineSize(right, out var rightValue));

        var leftKey = new MatchKey("d", "v", leftValue, leftValue);
        var rightKey = new MatchKey("d", "v", rightValue, rightValue);

        Assert.Equal(leftKey, rightKey);
        Assert.True(leftKey == rightKey);
        Assert.False(leftKey != rightKey);
        Assert.Equal(leftKey.GetHashCode(), rightKey.GetHashCode());
    }

    [Fact]
    public void Negative_zero_is_folded_to_zero_so_the_key_is_indistinguishable_from_zero()
    {
        var negative = new MatchKey("d", "v", -0.0, -0.0);
        var positive = new MatchKey("d", "v", 0.0, 0.0);

        Assert.False(double.IsNegative(negative.Cpu));
        Assert.False(double.IsNegative(negative.Memory));
        Assert.Equal(positive, negative);
        Assert.Equal(positive.GetHashCode(), negative.GetHashCode());
        Assert.Equal(positive.ToString(), negative.ToString());
    }

    [Fact]
    public void Keys_built_from_equal_sizes_find_the_same_dictionary_entry()
    {
        Assert.True(MatchKey.TryParseMachineSize("2.5E-1", out var cpu));
        Assert.True(MatchKey.TryParseMachineSize("1.0", out var memory));
        var entries = new Dictionary<MatchKey, string> { [new MatchKey("d", "v", 0.25, 1)] = "found" };

        Assert.Equal("found", entries[new MatchKey("d", "v", cpu, memory)]);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("∞")]
    [InlineData("1e400")]
    [InlineData("-1")]
    [InlineData("-0.25")]
    [InlineData("-1e-300")]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("abc")]
    [InlineData("one")]
    [InlineData("1.2.3")]
    [InlineData("--1")]
    [InlineData("1e")]
    [InlineData("e1")]
    [InlineData(".")]
    [InlineData("1,5")]
    [InlineData("1_000")]
    [InlineData("0x10")]
    [InlineData("0x1")]
    [InlineData("&H10")]
    [InlineData("1 2")]
    [InlineData("2cpu")]
    public void TryParseMachineSize_refuses_anything_but_a_finite_non_negative_number(string text)
    {
        Assert.False(MatchKey.TryParseMachineSize(text, out var value));
        Assert.Equal(0, value);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(-1.0)]
    [InlineData(-double.Epsilon)]
    public void IsValidMachineSize_refuses_non_finite_and_negative_values(double value) =>
        Assert.False(MatchKey.IsValidMachineSize(value));

    [Theory]
    [InlineData(0.0)]
    [InlineData(double.Epsilon)]
    [InlineData(0.25)]
    [InlineData(double.MaxValue)]
    public void IsValidMachineSize_accepts_finite_non_negative_values(double value) =>
        Assert.True(MatchKey.IsValidMachineSize(value));

    private static MatchKey DifferingIn(string field) => field switch
    {
        "deployment" => new MatchKey("deployment_xyz", "20240101.1", 1, 2),
        "deployment case" => new MatchKey("Deployment_abc", "20240101.1", 1, 2),
        "version" => new MatchKey("deployment_abc", "20240101.2", 1, 2),
        "version trailing space" => new MatchKey("deployment_abc", "20240101.1 ", 1, 2),
        "cpu" => new MatchKey("deployment_abc", "20240101.1", 2, 2),
        "cpu fraction" => new MatchKey("deployment_abc", "20240101.1", 1.0000001, 2),
        "memory" => new MatchKey("deployment_abc", "20240101.1", 1, 4),
        "memory fraction" => new MatchKey("deployment_abc", "20240101.1", 1, 2.5),
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    [Theory]
    [InlineData("deployment")]
    [InlineData("deployment case")]
    [InlineData("version")]
    [InlineData("version trailing space")]
    [InlineData("cpu")]
    [InlineData("cpu fraction")]
    [InlineData("memory")]
    [InlineData("memory fraction")]
    public void Each_of_the_four_fields_makes_keys_differ(string field)
    {
        var other = DifferingIn(field);

        Assert.False(Reference.Equals(other));
        Assert.False(Reference == other);
        Assert.True(Reference != other);
        Assert.False(Reference.Equals((object)other));
    }

    [Fact]
    public void Fields_are_not_interchangeable()
    {
        Assert.NotEqual(new MatchKey("a", "b", 1, 2), new MatchKey("b", "a", 1, 2));
        Assert.NotEqual(new MatchKey("a", "b", 1, 2), new MatchKey("a", "b", 2, 1));
    }

    [Fact]
    public void Equal_keys_are_equal_by_every_comparison_and_hash_alike()
    {
        // Separate string instances: equality must be by value, not by reference.
        var copy = new MatchKey(new string("deployment_abc".AsSpan()), new string("20240101.1".AsSpan()), 1.0, 2.0);

        Assert.True(Reference.Equals(copy));
        Assert.True(Reference.Equals((object)copy));
        Assert.True(Reference == copy);
        Assert.False(Reference != copy);
        Assert.Equal(Reference.GetHashCode(), copy.GetHashCode());
    }

    [Fact]
    public void A_key_is_not_equal_to_null_or_to_another_type()
    {
        Assert.False(Reference.Equals(null));
        Assert.False(Reference.Equals("deployment_abc"));
    }

    [Fact]
    public void ToString_names_all_four_fields_with_invariant_numbers()
    {
        Assert.Equal("deployment_abc/20240101.1 cpu=0.25 memory=0.5", new MatchKey("deployment_abc", "20240101.1", 0.25, 0.5).ToString());
    }
}
